// The write-ahead log of one (tenant, dataset, signal).
//
// Records get consecutive sequence numbers; Append() returns a record's
// number only after an fdatasync covering it has succeeded, so a caller may
// acknowledge its client as soon as Append() returns. Storage commits record
// the highest sequence they cover; Replay() hands back everything after it,
// and TrimThrough() deletes segments storage no longer needs.
//
// Format (docs/wal-format.md): files NNNNNNNNNNNNNNNNNNNN.wal (20-digit
// segment number), each a 16-byte header and then records:
//   masked crc32c (4) | payload length (4) | type (1) | sequence (8) | payload
// The CRC covers type, sequence and payload. When the log is opened, a torn
// tail (nothing whole after the damage) is cut off at the last valid record;
// damage in the middle of a segment moves the original to quarantine/ and
// keeps every record that is still whole.
//
// A failed write or fsync fails the appends it may have lost (never
// retried-and-trusted: the page cache may have dropped the data) and the next
// append cuts the segment back to its durable bytes and rolls to a new one,
// so ingest resumes by itself when the fault clears.
//
// Thread-safety: Append() may be called from many threads at once; the other
// methods must not run concurrently with each other.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/fs.h"

namespace signaldb::wal {

inline constexpr uint32_t kSegmentMagic = 0x4c415753;  // "SWAL" little-endian
inline constexpr uint16_t kFormatVersion = 1;
inline constexpr size_t kSegmentHeaderSize = 16;
inline constexpr size_t kRecordHeaderSize = 17;
// Segment header flag: the file held an older segment before, so the bytes
// after its last record are that segment's and mean nothing.
inline constexpr uint16_t kSegmentReused = 1;

// Record types.
enum class RecordType : uint8_t {
  kOtlpExport = 1,         // a serialized OTLP Export*ServiceRequest
  kOtlpExportLimited = 2,  // the same, after the attribute limits it was stored under
  // Types 1 and 2 logged while the request was still being decoded: a record
  // that does not decode was refused (INVALID_ARGUMENT) or never answered,
  // and replay skips it.
  kOtlpExportUnchecked = 3,
  kOtlpExportLimitedUnchecked = 4,
};

// Whether records of `type` were logged before their request was decoded.
inline bool LoggedBeforeDecoding(RecordType type) {
  return type == RecordType::kOtlpExportUnchecked || type == RecordType::kOtlpExportLimitedUnchecked;
}

struct Options {
  uint64_t segment_size = 64ull << 20;
  // Appends wait up to this long to share one fsync with concurrent appends.
  std::chrono::microseconds group_commit_window{0};
  // false acknowledges after write() without fdatasync: faster, but an OS
  // crash or power loss can lose acknowledged records. Never the default.
  bool fsync = true;
  // Trimmed segments kept (renamed NNNN.spare) to be written over as later
  // segments instead of deleted, at most this many per log: deleting a big
  // file frees its blocks, which on a disk mounted with online discard
  // stalls the device (and every fdatasync of the log) for milliseconds, and
  // appending within a file's old length needs no file-system journal commit
  // per fdatasync. Only segments at least half of segment_size are kept.
  // 0 deletes every trimmed segment.
  size_t spare_segments = 2;
  // A log with no append for this long gives its spares' disk back
  // (DropIdleSpares).
  std::chrono::milliseconds spare_idle{10 * 60 * 1000};
};

struct Stats {
  uint64_t segments = 0;
  uint64_t bytes = 0;
  uint64_t last_sequence = 0;
  uint64_t dropped_tail_bytes = 0;  // cut off at open (torn or corrupt tail)
  uint64_t io_errors = 0;           // failed writes or fsyncs since open
  uint64_t quarantined_segments = 0;  // corrupt in the middle at open; originals in quarantine/
  uint64_t corrupt_bytes = 0;         // unreadable bytes in those segments
  bool failed = false;              // the last I/O failed and the log is not repaired yet
};

class Wal {
 public:
  // Opens (creating if needed) the log in `dir`. Sequence numbers continue
  // after max(last record on disk, `min_next_sequence` - 1), so numbers are
  // never reused even when every segment has been trimmed. `fs` is not owned.
  static absl::StatusOr<std::unique_ptr<Wal>> Open(FileSystem* fs, std::string dir, Options options,
                                                   uint64_t min_next_sequence);
  ~Wal();

  // Calls `fn` for every record with sequence > `after`, in order.
  absl::Status Replay(uint64_t after,
                      const std::function<absl::Status(uint64_t seq, RecordType type,
                                                       std::string_view payload)>& fn);

  // Appends one record and returns its sequence number once it is durable.
  absl::StatusOr<uint64_t> Append(RecordType type, std::string_view payload) { return Append(type, {}, payload); }
  // The same for a record whose payload is `head` followed by `payload`
  // (not joined by the caller first).
  absl::StatusOr<uint64_t> Append(RecordType type, std::string_view head, std::string_view payload);

  // Deletes every segment whose records all have sequence <= `seq`. The active
  // segment is rolled first when it is wholly covered.
  absl::Status TrimThrough(uint64_t seq);
  // Deletes the spare segment files kept for reuse once no append has come
  // for Options::spare_idle (an idle log's disk); otherwise does nothing.
  absl::Status DropIdleSpares();

  absl::Status Close();
  Stats GetStats() const;
  // The highest sequence number handed to an append so far (durable or not).
  uint64_t LastAssignedSequence() const;
  const std::string& dir() const { return dir_; }

 private:
  struct Segment {
    uint64_t number;
    std::string path;
    uint64_t first_seq;  // sequence of its first record (or the next one, if empty)
    uint64_t last_seq;   // 0 when the segment holds no record
    uint64_t size;
    uint64_t synced_size;  // bytes known durable
  };
  Wal(FileSystem* fs, std::string dir, Options options);
  absl::Status Recover(uint64_t min_next_sequence);
  absl::Status OpenNewSegmentLocked();
  // Creates segment `number` with its header, durable with its directory
  // entry; needs no lock.
  absl::StatusOr<std::unique_ptr<WritableFile>> MakeSegmentFile(uint64_t number, uint64_t first_seq);
  // The same from a spare file, when there is one and it can be reused.
  absl::StatusOr<std::unique_ptr<WritableFile>> ReuseSpareFile(const std::string& path, uint64_t first_seq);
  // Deletes a trimmed segment, or keeps it as a spare.
  absl::Status Retire(const Segment& seg);
  // Makes `file` (segment `number`, starting at written_seq_ + 1) the active
  // segment.
  absl::Status InstallSegmentLocked(uint64_t number, std::unique_ptr<WritableFile> file);
  // Writes and fsyncs everything pending as one batch (the group commit).
  // Called with `lock` held by the appender that becomes the leader.
  void CommitPendingLocked(std::unique_lock<std::mutex>& lock);
  // After a failed write or fsync: everything not yet durable is lost for its
  // appenders, who get errors. A failed fsync is never retried and trusted.
  void MarkBrokenLocked(const absl::Status& cause);
  // Cuts the broken segment back to its durable bytes and starts a new one,
  // so appends resume by themselves once the fault clears.
  absl::Status RepairLocked();
  bool LostLocked(uint64_t seq) const;

  FileSystem* const fs_;
  const std::string dir_;
  const Options options_;

  mutable std::mutex mu_;  // guards everything below except sync state
  std::vector<Segment> segments_;
  std::shared_ptr<WritableFile> active_;
  uint64_t last_seq_ = 0;
  uint64_t dropped_tail_bytes_ = 0;
  uint64_t quarantined_segments_ = 0;
  uint64_t corrupt_bytes_ = 0;

  bool broken_ = false;
  uint64_t io_errors_ = 0;
  // Sequence ranges (from, to] whose records were lost to failed I/O.
  std::vector<std::pair<uint64_t, uint64_t>> lost_;

  // Group commit: appenders add encoded records to `pending_` and wait; one
  // of them at a time (the leader) writes the whole batch and fsyncs it.
  std::condition_variable committed_cv_;
  std::string pending_;
  uint64_t written_seq_ = 0;  // highest sequence written to a segment file
  bool committing_ = false;   // a leader is writing and syncing
  std::atomic<uint64_t> synced_seq_{0};

  std::mutex spare_mu_;  // guards spares_ (taken by rolls, given by trims)
  std::atomic<int64_t> last_append_ns_{0};  // steady clock, of the last Append
  std::vector<std::string> spares_;  // paths of spare files, oldest first
};

// Encodes one record (header + head + payload), for tests and tools.
std::string EncodeRecord(RecordType type, uint64_t seq, std::string_view payload, std::string_view head = {});

}  // namespace signaldb::wal
