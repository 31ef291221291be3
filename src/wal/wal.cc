#include "wal/wal.h"

#include <algorithm>
#include <cstring>
#include <thread>

#include "common/bytes.h"
#include "common/crc32c.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "spdlog/spdlog.h"

namespace signaldb::wal {
namespace {

template <typename T>
T Get(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

std::string SegmentName(uint64_t number) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020llu.wal", static_cast<unsigned long long>(number));
  return buf;
}

bool ParseSegmentName(const std::string& name, uint64_t* number) {
  if (name.size() != 24 || !EndsWith(name, ".wal")) return false;
  return ParseInt(std::string_view(name).substr(0, 20), number);
}

// A trimmed segment kept to be written over: the same number, another suffix
// (replay never reads it).
std::string SpareName(uint64_t number) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020llu.spare", static_cast<unsigned long long>(number));
  return buf;
}

std::string SegmentHeader(uint64_t first_seq, uint16_t flags = 0) {
  std::string h;
  AppendFixed<uint32_t>(h, kSegmentMagic);
  AppendFixed<uint16_t>(h, kFormatVersion);
  AppendFixed<uint16_t>(h, flags);
  AppendFixed<uint64_t>(h, first_seq);
  return h;
}

// Result of scanning one segment's bytes.
struct Scan {
  uint64_t valid_end = 0;  // offset just past the last valid record
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  bool reused = false;  // kSegmentReused: bytes past the records are an older segment's
};

// Walks the records of `data`; calls `fn` for each valid one. Stops at the
// first incomplete or corrupt record.
absl::StatusOr<Scan> ScanSegment(
    const std::string& path, std::string_view data,
    const std::function<absl::Status(uint64_t, RecordType, std::string_view)>& fn) {
  Scan scan;
  if (data.size() < kSegmentHeaderSize) return scan;  // torn header: empty segment
  if (Get<uint32_t>(data.data()) != kSegmentMagic) {
    return absl::DataLossError(StrCat("WAL segment ", path, " has a bad magic number"));
  }
  uint16_t version = Get<uint16_t>(data.data() + 4);
  if (version != kFormatVersion) {
    return absl::FailedPreconditionError(
        StrCat("WAL segment ", path, " has format version ", version, ", expected ", kFormatVersion));
  }
  scan.reused = (Get<uint16_t>(data.data() + 6) & kSegmentReused) != 0;
  scan.first_seq = Get<uint64_t>(data.data() + 8);
  size_t pos = kSegmentHeaderSize;
  scan.valid_end = pos;
  uint64_t expect = scan.first_seq;
  while (pos + kRecordHeaderSize <= data.size()) {
    uint32_t crc = crc32c::Unmask(Get<uint32_t>(data.data() + pos));
    uint32_t len = Get<uint32_t>(data.data() + pos + 4);
    if (pos + kRecordHeaderSize + len > data.size()) break;
    std::string_view covered = data.substr(pos + 8, 9 + len);
    if (crc32c::Value(covered) != crc) break;
    auto type = static_cast<RecordType>(data[pos + 8]);
    uint64_t seq = Get<uint64_t>(data.data() + pos + 9);
    if (seq < expect) break;  // sequences only grow; gaps are records lost to I/O failures
    if (fn) RETURN_IF_ERROR(fn(seq, type, data.substr(pos + kRecordHeaderSize, len)));
    scan.last_seq = seq;
    ++expect;
    pos += kRecordHeaderSize + len;
    scan.valid_end = pos;
  }
  return scan;
}

// Whether `type` is a record type this version writes.
bool KnownType(uint8_t type) {
  return type >= static_cast<uint8_t>(RecordType::kOtlpExport) &&
         type <= static_cast<uint8_t>(RecordType::kOtlpExportLimitedUnchecked);
}

// Looks past a damaged spot for records that are still whole: candidates
// must have a plausible header (known type, growing sequence, length within
// the file) before their CRC is checked. Returns the byte ranges found.
std::vector<std::pair<size_t, size_t>> Resync(std::string_view data, size_t from, uint64_t after_seq) {
  std::vector<std::pair<size_t, size_t>> found;
  size_t pos = from + 1;
  while (pos + kRecordHeaderSize <= data.size()) {
    uint32_t len = Get<uint32_t>(data.data() + pos + 4);
    auto type = static_cast<uint8_t>(data[pos + 8]);
    uint64_t seq = Get<uint64_t>(data.data() + pos + 9);
    bool plausible = KnownType(type) && seq > after_seq &&
                     seq < after_seq + (1ull << 32) && pos + kRecordHeaderSize + len <= data.size();
    if (plausible && crc32c::Value(data.substr(pos + 8, 9 + len)) == crc32c::Unmask(Get<uint32_t>(data.data() + pos))) {
      found.emplace_back(pos, kRecordHeaderSize + len);
      after_seq = seq;
      pos += kRecordHeaderSize + len;
    } else {
      ++pos;
    }
  }
  return found;
}

// Appends one encoded record to `out` (in place: the log's pending batch
// takes ~400 KB requests without a copy in between).
void AppendRecord(std::string& out, RecordType type, uint64_t seq, std::string_view payload, std::string_view head) {
  const size_t at = out.size();
  const size_t need = at + kRecordHeaderSize + head.size() + payload.size();
  // Geometric growth whatever the library's reserve() does: `out` may be a
  // batch that takes many records.
  if (out.capacity() < need) out.reserve(std::max(need, 2 * out.capacity()));
  AppendFixed<uint32_t>(out, 0);
  AppendFixed(out, static_cast<uint32_t>(head.size() + payload.size()));
  out.push_back(static_cast<char>(type));
  AppendFixed<uint64_t>(out, seq);
  out.append(head);
  out.append(payload);
  uint32_t masked = crc32c::Mask(crc32c::Value(std::string_view(out).substr(at + 8)));
  std::memcpy(out.data() + at, &masked, 4);
}

}  // namespace

std::string EncodeRecord(RecordType type, uint64_t seq, std::string_view payload, std::string_view head) {
  std::string rec;
  AppendRecord(rec, type, seq, payload, head);
  return rec;
}

Wal::Wal(FileSystem* fs, std::string dir, Options options)
    : fs_(fs), dir_(std::move(dir)), options_(options) {
  // Idle time counts from the open, not from the epoch.
  last_append_ns_ =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

Wal::~Wal() { (void)Close(); }

absl::StatusOr<std::unique_ptr<Wal>> Wal::Open(FileSystem* fs, std::string dir, Options options,
                                               uint64_t min_next_sequence) {
  RETURN_IF_ERROR(fs->CreateDirs(dir));
  auto wal = std::unique_ptr<Wal>(new Wal(fs, std::move(dir), options));
  RETURN_IF_ERROR(wal->Recover(min_next_sequence));
  return wal;
}

absl::Status Wal::Recover(uint64_t min_next_sequence) {
  ASSIGN_OR_RETURN(auto names, fs_->ListDir(dir_));
  uint64_t expected_first = 0;
  for (const auto& name : names) {
    if (EndsWith(name, ".spare")) {
      // Kept by an earlier run for reuse; beyond the limit, deleted.
      if (spares_.size() < options_.spare_segments) {
        spares_.push_back(dir_ + "/" + name);
      } else if (absl::Status st = fs_->Remove(dir_ + "/" + name); !st.ok()) {
        spdlog::warn("WAL {}: cannot delete spare {}: {}", dir_, name, st.ToString());
      }
    }
  }
  for (const auto& name : names) {
    uint64_t number;
    if (!ParseSegmentName(name, &number)) continue;
    std::string path = dir_ + "/" + name;
    ASSIGN_OR_RETURN(std::string data, fs_->ReadFile(path));
    ASSIGN_OR_RETURN(Scan scan, ScanSegment(path, data, nullptr));
    if (data.size() < kSegmentHeaderSize) {
      // Created but its header never became durable: nothing in it was acknowledged.
      dropped_tail_bytes_ += data.size();
      RETURN_IF_ERROR(fs_->Remove(path));
      continue;
    }
    if (expected_first != 0 && scan.first_seq != expected_first) {
      spdlog::warn("WAL {}: segment {} starts at sequence {}, expected {}", dir_, name, scan.first_seq,
                   expected_first);
    }
    if (scan.valid_end < data.size()) {
      // In a reused file, the records the older segment left behind all carry
      // sequences below this segment's first one: never salvaged. (Only
      // there: elsewhere a damaged header must not hide the records.)
      auto salvaged =
          Resync(data, scan.valid_end, scan.reused ? std::max(scan.last_seq, scan.first_seq - 1) : scan.last_seq);
      if (salvaged.empty()) {
        // Nothing whole after the damage: a torn tail from a crash mid-write,
        // or in a reused file the older segment's bytes (and maybe a torn tail
        // before them: the two cannot be told apart, and neither was ever
        // acknowledged).
        uint64_t dropped = data.size() - scan.valid_end;
        if (scan.reused) {
          spdlog::debug("WAL {}: {} bytes after the last record of reused segment {} cut", dir_, dropped, name);
        } else {
          spdlog::warn("WAL {}: cut {} bytes of torn or corrupt tail from {}", dir_, dropped, name);
          dropped_tail_bytes_ += dropped;
        }
        RETURN_IF_ERROR(fs_->Truncate(path, scan.valid_end));
      } else {
        // Damage in the middle: keep the original aside for inspection and
        // rewrite the segment with every record that is still whole.
        std::string qdir = dir_ + "/quarantine";
        RETURN_IF_ERROR(fs_->CreateDirs(qdir));
        RETURN_IF_ERROR(fs_->WriteFileAtomic(qdir + "/" + name, data));
        std::string repaired(data.substr(0, scan.valid_end));
        for (const auto& [off, len] : salvaged) repaired.append(data.substr(off, len));
        // In a reused file the bytes after the last salvaged record are the
        // older segment's, not lost ones.
        const auto& [last_off, last_len] = salvaged.back();
        uint64_t lost = (scan.reused ? last_off + last_len : data.size()) - repaired.size();
        RETURN_IF_ERROR(fs_->WriteFileAtomic(path, repaired));
        spdlog::error("WAL {}: segment {} is corrupt in the middle: {} bytes unreadable, {} later records "
                      "recovered; original kept in {}",
                      dir_, name, lost, salvaged.size(), qdir);
        ++quarantined_segments_;
        corrupt_bytes_ += lost;
        data = std::move(repaired);
        ASSIGN_OR_RETURN(scan, ScanSegment(path, data, nullptr));
      }
    }
    Segment seg{number, path, scan.first_seq, scan.last_seq, scan.valid_end, scan.valid_end};
    if (seg.last_seq != 0) last_seq_ = std::max(last_seq_, seg.last_seq);
    else last_seq_ = std::max(last_seq_, seg.first_seq - 1);
    expected_first = (seg.last_seq != 0 ? seg.last_seq : seg.first_seq - 1) + 1;
    segments_.push_back(seg);
  }
  if (min_next_sequence > 0) last_seq_ = std::max(last_seq_, min_next_sequence - 1);
  synced_seq_ = last_seq_;
  written_seq_ = last_seq_;
  std::lock_guard lock(mu_);
  // Always start a fresh segment: the old tail stays as it was recovered.
  return OpenNewSegmentLocked();
}

absl::StatusOr<std::unique_ptr<WritableFile>> Wal::MakeSegmentFile(uint64_t number, uint64_t first_seq) {
  const std::string path = dir_ + "/" + SegmentName(number);
  if (auto reused = ReuseSpareFile(path, first_seq); reused.ok()) return reused;
  ASSIGN_OR_RETURN(auto file, fs_->OpenAppendable(path));
  absl::Status st = file->Append(SegmentHeader(first_seq));
  if (st.ok()) st = file->Sync();
  if (st.ok()) st = fs_->SyncDir(dir_);
  if (!st.ok()) {
    (void)fs_->Remove(path);
    return st;
  }
  return file;
}

absl::StatusOr<std::unique_ptr<WritableFile>> Wal::ReuseSpareFile(const std::string& path, uint64_t first_seq) {
  std::string spare;
  {
    std::lock_guard lock(spare_mu_);
    if (spares_.empty()) return absl::NotFoundError("no spare segment file");
    spare = std::move(spares_.back());
    spares_.pop_back();
  }
  // The new header is durable before the file takes the segment's name, so
  // a segment file never starts with the older segment's header.
  auto file = fs_->OpenForOverwrite(spare);
  absl::Status st = file.status();
  if (st.ok()) st = (*file)->Append(SegmentHeader(first_seq, kSegmentReused));
  if (st.ok()) st = (*file)->Sync();
  if (st.ok()) st = fs_->Rename(spare, path);
  if (st.ok()) st = fs_->SyncDir(dir_);
  if (st.ok()) return file;
  spdlog::warn("WAL {}: cannot reuse {} ({}); deleting it and creating a new segment file", dir_, spare,
               st.ToString());
  if (file.ok()) (void)(*file)->Close();
  (void)fs_->Remove(spare);
  (void)fs_->Remove(path);
  return st;
}

absl::Status Wal::Retire(const Segment& seg) {
  // By the file's length, not the segment's: a reused file holding a short
  // segment is as big (and as slow to delete) as it ever was.
  auto length = fs_->FileSize(seg.path);
  const uint64_t bytes = length.ok() ? std::max<uint64_t>(*length, seg.size) : seg.size;
  bool keep = false;
  if (bytes >= options_.segment_size / 2) {
    // Only trims add spares (never two at once); a roll may take one
    // meanwhile, which leaves room. The rename runs without the lock.
    std::lock_guard lock(spare_mu_);
    keep = spares_.size() < options_.spare_segments;
  }
  if (!keep) return fs_->Remove(seg.path);
  const std::string spare = dir_ + "/" + SpareName(seg.number);
  RETURN_IF_ERROR(fs_->Rename(seg.path, spare));
  std::lock_guard lock(spare_mu_);
  spares_.push_back(spare);
  return absl::OkStatus();
}

absl::Status Wal::InstallSegmentLocked(uint64_t number, std::unique_ptr<WritableFile> file) {
  if (active_) RETURN_IF_ERROR(active_->Close());
  active_ = std::shared_ptr<WritableFile>(std::move(file));
  segments_.push_back(
      Segment{number, dir_ + "/" + SegmentName(number), written_seq_ + 1, 0, kSegmentHeaderSize, kSegmentHeaderSize});
  return absl::OkStatus();
}

absl::Status Wal::OpenNewSegmentLocked() {
  const uint64_t number = segments_.empty() ? 1 : segments_.back().number + 1;
  ASSIGN_OR_RETURN(auto file, MakeSegmentFile(number, written_seq_ + 1));
  return InstallSegmentLocked(number, std::move(file));
}

absl::Status Wal::Replay(
    uint64_t after, const std::function<absl::Status(uint64_t, RecordType, std::string_view)>& fn) {
  std::vector<Segment> segs;
  {
    std::lock_guard lock(mu_);
    segs = segments_;
  }
  for (const auto& seg : segs) {
    if (seg.last_seq == 0 || seg.last_seq <= after) continue;
    ASSIGN_OR_RETURN(std::string data, fs_->ReadFile(seg.path));
    data.resize(std::min<uint64_t>(data.size(), seg.size));
    auto scan = ScanSegment(seg.path, data, [&](uint64_t seq, RecordType type, std::string_view payload) {
      return seq > after ? fn(seq, type, payload) : absl::OkStatus();
    });
    if (!scan.ok()) return scan.status();
  }
  return absl::OkStatus();
}

void Wal::MarkBrokenLocked(const absl::Status& cause) {
  ++io_errors_;
  // Every record past the durable point may be gone: its appender must fail.
  if (last_seq_ > synced_seq_) lost_.emplace_back(synced_seq_.load(), last_seq_);
  if (lost_.size() > 64) lost_.erase(lost_.begin());
  pending_.clear();
  written_seq_ = last_seq_;  // lost sequences are never written
  if (!broken_) spdlog::error("WAL {}: {}; failing unsynced appends and rolling to a new segment", dir_, cause.ToString());
  broken_ = true;
}

bool Wal::LostLocked(uint64_t seq) const {
  for (const auto& [from, to] : lost_) {
    if (seq > from && seq <= to) return true;
  }
  return false;
}

absl::Status Wal::RepairLocked() {
  Segment& seg = segments_.back();
  // Cut off whatever the failed write or fsync left behind the durable bytes.
  absl::Status cut = fs_->Truncate(seg.path, seg.synced_size);
  if (!cut.ok()) spdlog::warn("WAL {}: cannot cut {} back to {} bytes: {}", dir_, seg.path, seg.synced_size, cut.ToString());
  seg.size = seg.synced_size;
  if (seg.last_seq > synced_seq_) seg.last_seq = synced_seq_ >= seg.first_seq ? synced_seq_.load() : 0;
  RETURN_IF_ERROR(OpenNewSegmentLocked());
  broken_ = false;
  spdlog::info("WAL {}: recovered from an I/O failure; appends resume in a new segment", dir_);
  return absl::OkStatus();
}

void Wal::CommitPendingLocked(std::unique_lock<std::mutex>& lock) {
  committing_ = true;
  if (options_.group_commit_window.count() > 0) {
    lock.unlock();
    std::this_thread::sleep_for(options_.group_commit_window);
    lock.lock();
  }
  std::string batch;
  batch.swap(pending_);
  const uint64_t target = last_seq_;
  const uint64_t first = written_seq_ + 1;
  std::shared_ptr<WritableFile> file = active_;
  const uint64_t segment = segments_.back().number;
  lock.unlock();
  // The write and the fsync run without the lock: appenders keep queueing
  // records for the next batch meanwhile.
  absl::Status st = file->Append(batch);
  if (st.ok() && options_.fsync) st = file->Sync();
  lock.lock();
  if (!st.ok()) {
    MarkBrokenLocked(st);
  } else {
    written_seq_ = target;
    synced_seq_ = target;
    for (auto& seg : segments_) {
      if (seg.number != segment) continue;
      seg.size += batch.size();
      seg.synced_size = seg.size;
      if (seg.last_seq == 0) seg.first_seq = first;
      seg.last_seq = target;
    }
    if (segments_.back().number == segment && segments_.back().size >= options_.segment_size) {
      // Roll to a new segment. Its file is made (two fsyncs) without the
      // lock, after this batch's appenders are told: they need not wait for
      // it. committing_ stays set, so no commit, trim or repair changes the
      // log meanwhile; new appends queue for the next batch.
      committed_cv_.notify_all();
      const uint64_t number = segment + 1;
      const uint64_t first = written_seq_ + 1;
      lock.unlock();
      auto file = MakeSegmentFile(number, first);
      lock.lock();
      absl::Status roll = file.ok() ? InstallSegmentLocked(number, std::move(*file)) : file.status();
      if (!roll.ok()) spdlog::warn("WAL {}: cannot roll segment (will retry): {}", dir_, roll.ToString());
    }
  }
  committing_ = false;
  committed_cv_.notify_all();
}

absl::StatusOr<uint64_t> Wal::Append(RecordType type, std::string_view head, std::string_view payload) {
  if (payload.size() > UINT32_MAX - kRecordHeaderSize - head.size()) {
    return absl::InvalidArgumentError("WAL record too large");
  }
  last_append_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::steady_clock::now().time_since_epoch())
                       .count();
  std::unique_lock lock(mu_);
  if (!active_) return absl::FailedPreconditionError("WAL is closed");
  if (broken_ && !committing_) {
    if (absl::Status st = RepairLocked(); !st.ok()) {
      return absl::UnavailableError(StrCat("WAL is unavailable after an I/O failure: ", st.message()));
    }
  }
  const uint64_t seq = ++last_seq_;
  AppendRecord(pending_, type, seq, payload, head);
  while (true) {
    if (LostLocked(seq)) {
      return absl::UnavailableError(StrCat("WAL record ", seq, " was lost to a failed write or fsync; retry"));
    }
    if (synced_seq_ >= seq) return seq;
    if (!committing_) {
      if (broken_) {
        // A failure took the batch this record was waiting for.
        return absl::UnavailableError("WAL write failed; retry");
      }
      CommitPendingLocked(lock);
    } else {
      committed_cv_.wait(lock);
    }
  }
}

absl::Status Wal::TrimThrough(uint64_t seq) {
  std::vector<Segment> doomed;
  {
    std::lock_guard lock(mu_);
    if (!active_) return absl::OkStatus();
    Segment& active = segments_.back();
    if (active.last_seq != 0 && active.last_seq <= seq && synced_seq_ >= active.last_seq && !committing_ &&
        pending_.empty()) {
      RETURN_IF_ERROR(OpenNewSegmentLocked());
    }
    while (segments_.size() > 1) {
      const Segment& seg = segments_.front();
      bool covered = seg.last_seq == 0 ? seg.first_seq - 1 <= seq : seg.last_seq <= seq;
      if (!covered) break;
      doomed.push_back(seg);
      segments_.erase(segments_.begin());
    }
  }
  // Deleting large files and syncing the directory take milliseconds (~17 ms
  // for a 64 MiB segment under ingest): done without the lock, so appends
  // never wait for them. The segments already left the list; after a crash
  // before they are gone (or renamed to spares), the next start replays them
  // and skips every record (all are committed to the tables).
  for (size_t i = 0; i < doomed.size(); ++i) {
    if (absl::Status st = Retire(doomed[i]); !st.ok()) {
      // The ones not deleted go back to the front of the list (they are the
      // oldest), so a later trim tries them again.
      {
        std::lock_guard lock(mu_);
        segments_.insert(segments_.begin(), doomed.begin() + static_cast<ptrdiff_t>(i), doomed.end());
      }
      if (i > 0) (void)fs_->SyncDir(dir_);  // the ones deleted stay deleted
      return st;
    }
  }
  if (!doomed.empty()) RETURN_IF_ERROR(fs_->SyncDir(dir_));
  return absl::OkStatus();
}

absl::Status Wal::DropIdleSpares() {
  const auto now = std::chrono::steady_clock::now().time_since_epoch();
  if (now - std::chrono::nanoseconds(last_append_ns_.load()) < options_.spare_idle) return absl::OkStatus();
  std::vector<std::string> doomed;
  {
    std::lock_guard lock(spare_mu_);
    doomed.swap(spares_);
  }
  if (doomed.empty()) return absl::OkStatus();
  absl::Status first;
  for (const auto& path : doomed) {
    absl::Status st = fs_->Remove(path);
    if (!st.ok() && first.ok()) first = st;
    if (!st.ok()) {
      std::lock_guard lock(spare_mu_);
      spares_.push_back(path);  // tried again next time
    }
  }
  absl::Status sync = fs_->SyncDir(dir_);
  return first.ok() ? sync : first;
}

absl::Status Wal::Close() {
  std::unique_lock lock(mu_);
  committed_cv_.wait(lock, [&] { return !committing_; });
  if (!active_) return absl::OkStatus();
  absl::Status st = broken_ || !options_.fsync ? absl::OkStatus() : active_->Sync();
  absl::Status close = active_->Close();
  active_.reset();
  return st.ok() ? close : st;
}

uint64_t Wal::LastAssignedSequence() const {
  std::lock_guard lock(mu_);
  return last_seq_;
}

Stats Wal::GetStats() const {
  std::lock_guard lock(mu_);
  Stats s;
  s.segments = segments_.size();
  for (const auto& seg : segments_) s.bytes += seg.size;
  s.last_sequence = last_seq_;
  s.dropped_tail_bytes = dropped_tail_bytes_;
  s.failed = broken_;
  s.quarantined_segments = quarantined_segments_;
  s.corrupt_bytes = corrupt_bytes_;
  s.io_errors = io_errors_;
  return s;
}

}  // namespace signaldb::wal
