#include "engine/engine.h"

#include "engine/vectors.h"

#include <duckdb.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "common/status_macros.h"
#include "common/strings.h"

namespace signaldb::engine {

// Interrupts connections whose query has run past its deadline. One thread
// per database, sleeping until the nearest deadline.
class Watchdog {
 public:
  Watchdog() : thread_([this] { Run(); }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  // Returns a ticket for Cancel(). `fired` is set when the query is interrupted.
  uint64_t Arm(duckdb_connection conn, std::chrono::steady_clock::time_point deadline,
               std::atomic<bool>* fired) {
    std::lock_guard lock(mu_);
    uint64_t id = ++next_id_;
    entries_.emplace(id, Entry{conn, deadline, fired});
    cv_.notify_all();
    return id;
  }
  void Disarm(uint64_t id) {
    std::lock_guard lock(mu_);
    entries_.erase(id);
  }

 private:
  struct Entry {
    duckdb_connection conn;
    std::chrono::steady_clock::time_point deadline;
    std::atomic<bool>* fired;
  };
  void Run() {
    std::unique_lock lock(mu_);
    while (!stop_) {
      auto now = std::chrono::steady_clock::now();
      auto next = now + std::chrono::hours(1);
      for (auto it = entries_.begin(); it != entries_.end();) {
        if (it->second.deadline <= now) {
          it->second.fired->store(true);
          duckdb_interrupt(it->second.conn);
          it = entries_.erase(it);
        } else {
          next = std::min(next, it->second.deadline);
          ++it;
        }
      }
      cv_.wait_until(lock, next);
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  uint64_t next_id_ = 0;
  std::map<uint64_t, Entry> entries_;
  std::thread thread_;
};

struct Database::Impl {
  duckdb_database db = nullptr;
  Watchdog watchdog;
  ~Impl() {
    if (db != nullptr) duckdb_close(&db);
  }
};

struct Connection::Impl {
  Database::Impl* db;
  duckdb_connection conn = nullptr;
  ~Impl() {
    if (conn != nullptr) duckdb_disconnect(&conn);
  }
};

struct Appender::Impl {
  duckdb_appender app = nullptr;
  std::string table;
  ~Impl() {
    if (app != nullptr) duckdb_appender_destroy(&app);
  }
};

namespace {

std::string TypeName(duckdb_type t) {
  switch (t) {
    case DUCKDB_TYPE_BOOLEAN: return "BOOLEAN";
    case DUCKDB_TYPE_TINYINT: return "TINYINT";
    case DUCKDB_TYPE_SMALLINT: return "SMALLINT";
    case DUCKDB_TYPE_INTEGER: return "INTEGER";
    case DUCKDB_TYPE_BIGINT: return "BIGINT";
    case DUCKDB_TYPE_UTINYINT: return "UTINYINT";
    case DUCKDB_TYPE_USMALLINT: return "USMALLINT";
    case DUCKDB_TYPE_UINTEGER: return "UINTEGER";
    case DUCKDB_TYPE_UBIGINT: return "UBIGINT";
    case DUCKDB_TYPE_FLOAT: return "FLOAT";
    case DUCKDB_TYPE_DOUBLE: return "DOUBLE";
    case DUCKDB_TYPE_TIMESTAMP: return "TIMESTAMP";
    case DUCKDB_TYPE_DATE: return "DATE";
    case DUCKDB_TYPE_TIME: return "TIME";
    case DUCKDB_TYPE_INTERVAL: return "INTERVAL";
    case DUCKDB_TYPE_HUGEINT: return "HUGEINT";
    case DUCKDB_TYPE_UHUGEINT: return "UHUGEINT";
    case DUCKDB_TYPE_VARCHAR: return "VARCHAR";
    case DUCKDB_TYPE_BLOB: return "BLOB";
    case DUCKDB_TYPE_DECIMAL: return "DECIMAL";
    case DUCKDB_TYPE_TIMESTAMP_S: return "TIMESTAMP_S";
    case DUCKDB_TYPE_TIMESTAMP_MS: return "TIMESTAMP_MS";
    case DUCKDB_TYPE_TIMESTAMP_NS: return "TIMESTAMP_NS";
    case DUCKDB_TYPE_ENUM: return "ENUM";
    case DUCKDB_TYPE_LIST: return "LIST";
    case DUCKDB_TYPE_STRUCT: return "STRUCT";
    case DUCKDB_TYPE_MAP: return "MAP";
    case DUCKDB_TYPE_ARRAY: return "ARRAY";
    case DUCKDB_TYPE_UUID: return "UUID";
    case DUCKDB_TYPE_UNION: return "UNION";
    case DUCKDB_TYPE_BIT: return "BIT";
    case DUCKDB_TYPE_TIME_TZ: return "TIMETZ";
    case DUCKDB_TYPE_TIMESTAMP_TZ: return "TIMESTAMPTZ";
    case DUCKDB_TYPE_SQLNULL: return "NULL";
    default: return "UNKNOWN";
  }
}

// How a column of DuckDB type `t` is read: natively, or after the query is
// wrapped to turn it into JSON or text.
enum class Read { kNative, kToJson, kToText };
Read ReadModeOf(duckdb_type t) {
  switch (t) {
    case DUCKDB_TYPE_BOOLEAN:
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_UTINYINT:
    case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_UINTEGER:
    case DUCKDB_TYPE_UBIGINT:
    case DUCKDB_TYPE_FLOAT:
    case DUCKDB_TYPE_DOUBLE:
    case DUCKDB_TYPE_VARCHAR:
    case DUCKDB_TYPE_SQLNULL:
      return Read::kNative;
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_STRUCT:
    case DUCKDB_TYPE_MAP:
    case DUCKDB_TYPE_ARRAY:
    case DUCKDB_TYPE_UNION:
      return Read::kToJson;
    default:
      return Read::kToText;
  }
}

Kind KindOf(duckdb_type t, Read mode) {
  if (mode == Read::kToJson) return Kind::kJson;
  if (mode == Read::kToText) return Kind::kString;
  switch (t) {
    case DUCKDB_TYPE_BOOLEAN: return Kind::kBool;
    case DUCKDB_TYPE_UBIGINT: return Kind::kUInt64;
    case DUCKDB_TYPE_FLOAT:
    case DUCKDB_TYPE_DOUBLE: return Kind::kDouble;
    case DUCKDB_TYPE_VARCHAR:
    case DUCKDB_TYPE_SQLNULL: return Kind::kString;
    default: return Kind::kInt64;
  }
}

// DuckDB's to_json writes non-finite doubles as bare NaN, Infinity and
// -Infinity, which JSON does not allow. Quotes them ("NaN", as OTLP JSON and
// our SQL API write non-finite doubles), leaving string contents alone.
std::string QuoteNonFinite(std::string text) {
  std::string out;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) out += text[++i];
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    bool replaced = false;
    for (std::string_view token : {"NaN", "Infinity", "-Infinity"}) {
      if (std::string_view(text).substr(i, token.size()) == token) {
        out += '"';
        out += token;
        out += '"';
        i += token.size() - 1;
        replaced = true;
        break;
      }
    }
    if (!replaced) out += c;
  }
  return out;
}

absl::Status ErrorFromText(const std::string& msg) {
  if (StartsWith(msg, "Permission Error")) return absl::PermissionDeniedError(msg);
  if (StartsWith(msg, "INTERRUPT")) return absl::CancelledError(msg);
  return absl::InvalidArgumentError(msg);
}

class Prepared {
 public:
  ~Prepared() {
    if (stmt != nullptr) duckdb_destroy_prepare(&stmt);
  }
  duckdb_prepared_statement stmt = nullptr;
};

class Extracted {
 public:
  ~Extracted() {
    if (stmts != nullptr) duckdb_destroy_extracted(&stmts);
  }
  duckdb_extracted_statements stmts = nullptr;
};

class Result {
 public:
  ~Result() { duckdb_destroy_result(&res); }
  duckdb_result res{};
};

absl::Status Bind(duckdb_prepared_statement stmt, const std::vector<Param>& params) {
  for (size_t i = 0; i < params.size(); ++i) {
    idx_t idx = i + 1;
    duckdb_state st = DuckDBSuccess;
    const Param& p = params[i];
    if (std::holds_alternative<std::monostate>(p)) st = duckdb_bind_null(stmt, idx);
    else if (auto* b = std::get_if<bool>(&p)) st = duckdb_bind_boolean(stmt, idx, *b);
    else if (auto* n = std::get_if<int64_t>(&p)) st = duckdb_bind_int64(stmt, idx, *n);
    else if (auto* d = std::get_if<double>(&p)) st = duckdb_bind_double(stmt, idx, *d);
    else if (auto* s = std::get_if<std::string>(&p)) st = duckdb_bind_varchar_length(stmt, idx, s->data(), s->size());
    if (st != DuckDBSuccess) return absl::InvalidArgumentError(StrCat("cannot bind parameter ", idx));
  }
  return absl::OkStatus();
}

Value ReadCell(duckdb_type t, void* data, idx_t row) {
  switch (t) {
    case DUCKDB_TYPE_BOOLEAN: return static_cast<bool*>(data)[row];
    case DUCKDB_TYPE_TINYINT: return static_cast<int64_t>(static_cast<int8_t*>(data)[row]);
    case DUCKDB_TYPE_SMALLINT: return static_cast<int64_t>(static_cast<int16_t*>(data)[row]);
    case DUCKDB_TYPE_INTEGER: return static_cast<int64_t>(static_cast<int32_t*>(data)[row]);
    case DUCKDB_TYPE_BIGINT: return static_cast<int64_t*>(data)[row];
    case DUCKDB_TYPE_UTINYINT: return static_cast<int64_t>(static_cast<uint8_t*>(data)[row]);
    case DUCKDB_TYPE_USMALLINT: return static_cast<int64_t>(static_cast<uint16_t*>(data)[row]);
    case DUCKDB_TYPE_UINTEGER: return static_cast<int64_t>(static_cast<uint32_t*>(data)[row]);
    case DUCKDB_TYPE_UBIGINT: return static_cast<uint64_t*>(data)[row];
    case DUCKDB_TYPE_FLOAT: return static_cast<double>(static_cast<float*>(data)[row]);
    case DUCKDB_TYPE_DOUBLE: return static_cast<double*>(data)[row];
    case DUCKDB_TYPE_VARCHAR: {
      auto* s = &static_cast<duckdb_string_t*>(data)[row];
      return std::string(duckdb_string_t_data(s), duckdb_string_t_length(*s));
    }
    default: return std::monostate{};
  }
}

}  // namespace

Database::Database(Options options, std::unique_ptr<Impl> impl)
    : options_(std::move(options)), impl_(std::move(impl)) {}
Database::~Database() = default;

absl::StatusOr<std::unique_ptr<Database>> Database::Open(const Options& options) {
  auto impl = std::make_unique<Impl>();
  duckdb_config config;
  if (duckdb_create_config(&config) != DuckDBSuccess) return absl::InternalError("duckdb_create_config failed");
  if (options.threads > 0) duckdb_set_config(config, "threads", std::to_string(options.threads).c_str());
  char* err = nullptr;
  duckdb_state st = duckdb_open_ext(nullptr, &impl->db, config, &err);
  duckdb_destroy_config(&config);
  if (st != DuckDBSuccess) {
    std::string msg = err ? err : "unknown error";
    if (err) duckdb_free(err);
    return absl::InternalError(StrCat("cannot open DuckDB: ", msg));
  }
  auto db = std::unique_ptr<Database>(new Database(options, std::move(impl)));
  auto conn = db->Connect();
  if (!conn.ok()) return conn.status();
  std::string dir = options.allowed_dir;
  if (!EndsWith(dir, "/")) dir += "/";
  std::string setup = StrCat(
      "SET parquet_metadata_cache = true;",
      options.temp_dir.empty() ? "" : StrCat("SET temp_directory = ", QuoteLiteral(options.temp_dir), ";"),
      options.memory_limit.empty() ? "" : StrCat("SET memory_limit = ", QuoteLiteral(options.memory_limit), ";"),
      "SET allowed_directories = [", QuoteLiteral(dir), "];",
      "SET enable_external_access = false;",
      "SET autoinstall_known_extensions = false;",
      "SET autoload_known_extensions = false;",
      "SET lock_configuration = true;");
  if (auto s = (*conn)->Execute(setup); !s.ok()) return s;
  return db;
}

absl::Status RegisterRowSourceFunction(duckdb_connection conn, const std::string& name, RowSource* source);

absl::Status Database::RegisterRowSource(const std::string& name, RowSource* source) {
  ASSIGN_OR_RETURN(auto conn, Connect());
  return RegisterRowSourceFunction(conn->impl_->conn, name, source);
}

absl::StatusOr<std::unique_ptr<Connection>> Database::Connect() {
  auto impl = std::make_unique<Connection::Impl>();
  impl->db = impl_.get();
  if (duckdb_connect(impl_->db, &impl->conn) != DuckDBSuccess) {
    return absl::InternalError("cannot connect to DuckDB");
  }
  return std::unique_ptr<Connection>(new Connection(std::move(impl)));
}

Connection::Connection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Connection::~Connection() = default;

absl::Status Connection::Execute(std::string_view sql) {
  Result r;
  std::string text(sql);
  if (duckdb_query(impl_->conn, text.c_str(), &r.res) != DuckDBSuccess) {
    return absl::InternalError(StrCat("DuckDB: ", duckdb_result_error(&r.res)));
  }
  return absl::OkStatus();
}

namespace {

// Prepares `sql`; if some column needs conversion, re-prepares it wrapped in
// a projection that turns nested values into JSON and others into text.
absl::Status PrepareReadable(duckdb_connection conn, std::string sql, Prepared& prep,
                             std::vector<Column>& columns, std::vector<duckdb_type>& types) {
  if (duckdb_prepare(conn, sql.c_str(), &prep.stmt) != DuckDBSuccess) {
    return ErrorFromText(duckdb_prepare_error(prep.stmt));
  }
  idx_t n = duckdb_prepared_statement_column_count(prep.stmt);
  std::vector<std::string> proj;
  bool wrap = false;
  columns.clear();
  types.clear();
  for (idx_t i = 0; i < n; ++i) {
    duckdb_type t = duckdb_prepared_statement_column_type(prep.stmt, i);
    const char* name = duckdb_prepared_statement_column_name(prep.stmt, i);  // ours to free
    Read mode = ReadModeOf(t);
    columns.push_back(Column{name ? name : "", TypeName(t), KindOf(t, mode)});
    if (name != nullptr) duckdb_free(const_cast<char*>(name));
    std::string ref = StrCat("#", i + 1);
    std::string alias = QuoteIdentifier(columns.back().name);
    if (mode == Read::kToJson) {
      proj.push_back(StrCat("CAST(to_json(", ref, ") AS VARCHAR) AS ", alias));
      wrap = true;
      types.push_back(DUCKDB_TYPE_VARCHAR);
    } else if (mode == Read::kToText) {
      proj.push_back(StrCat("CAST(", ref, " AS VARCHAR) AS ", alias));
      wrap = true;
      types.push_back(DUCKDB_TYPE_VARCHAR);
    } else {
      proj.push_back(StrCat(ref, " AS ", alias));
      types.push_back(t);
    }
  }
  if (!wrap) return absl::OkStatus();
  duckdb_destroy_prepare(&prep.stmt);
  prep.stmt = nullptr;
  std::string body(Trim(sql));
  while (!body.empty() && (body.back() == ';' || std::isspace(static_cast<unsigned char>(body.back())))) body.pop_back();
  std::string wrapped = StrCat("SELECT ", Join(proj, ", "), " FROM (", body, "\n) AS sdb_q");
  if (duckdb_prepare(conn, wrapped.c_str(), &prep.stmt) != DuckDBSuccess) {
    return ErrorFromText(duckdb_prepare_error(prep.stmt));
  }
  return absl::OkStatus();
}

absl::StatusOr<Table> Run(Connection::Impl* impl, duckdb_prepared_statement stmt,
                          std::vector<Column> columns, const std::vector<duckdb_type>& types,
                          uint64_t max_rows, std::optional<std::chrono::milliseconds> timeout) {
  Table table;
  table.columns = std::move(columns);
  std::atomic<bool> fired{false};
  uint64_t ticket = 0;
  if (timeout) ticket = impl->db->watchdog.Arm(impl->conn, std::chrono::steady_clock::now() + *timeout, &fired);
  struct Disarm {
    Watchdog* w;
    uint64_t t;
    ~Disarm() {
      if (t) w->Disarm(t);
    }
  } disarm{&impl->db->watchdog, ticket};

  auto fail = [&](const std::string& msg) -> absl::Status {
    if (fired.load()) {
      return absl::DeadlineExceededError(
          StrCat("query exceeded the timeout of ", timeout ? timeout->count() : 0, "ms"));
    }
    return ErrorFromText(msg);
  };
  Result r;
  if (duckdb_execute_prepared_streaming(stmt, &r.res) != DuckDBSuccess) {
    return fail(duckdb_result_error(&r.res));
  }
  while (true) {
    duckdb_data_chunk chunk = duckdb_fetch_chunk(r.res);
    if (chunk == nullptr) {
      if (const char* e = duckdb_result_error(&r.res); e != nullptr) return fail(e);
      break;
    }
    idx_t n = duckdb_data_chunk_get_size(chunk);
    size_t ncols = table.columns.size();
    std::vector<void*> data(ncols);
    std::vector<uint64_t*> validity(ncols);
    for (size_t c = 0; c < ncols; ++c) {
      duckdb_vector v = duckdb_data_chunk_get_vector(chunk, c);
      data[c] = duckdb_vector_get_data(v);
      validity[c] = duckdb_vector_get_validity(v);
    }
    for (idx_t row = 0; row < n; ++row) {
      if (table.rows.size() >= max_rows) {
        table.truncated = true;
        break;
      }
      std::vector<Value> out(ncols);
      for (size_t c = 0; c < ncols; ++c) {
        if (validity[c] != nullptr && !duckdb_validity_row_is_valid(validity[c], row)) continue;
        out[c] = ReadCell(types[c], data[c], row);
        if (table.columns[c].kind == Kind::kJson) {
          if (auto* s = std::get_if<std::string>(&out[c])) out[c] = Json{QuoteNonFinite(std::move(*s))};
        }
      }
      table.rows.push_back(std::move(out));
    }
    duckdb_destroy_data_chunk(&chunk);
    if (table.truncated) break;
  }
  return table;
}

}  // namespace

absl::StatusOr<Table> Connection::Query(std::string_view sql, const std::vector<Param>& params,
                                        uint64_t max_rows) {
  Prepared prep;
  std::vector<Column> columns;
  std::vector<duckdb_type> types;
  if (auto st = PrepareReadable(impl_->conn, std::string(sql), prep, columns, types); !st.ok()) {
    return absl::InternalError(StrCat("DuckDB: ", st.message()));
  }
  if (auto st = Bind(prep.stmt, params); !st.ok()) return st;
  auto t = Run(impl_.get(), prep.stmt, std::move(columns), types, max_rows, std::nullopt);
  if (!t.ok()) return absl::InternalError(StrCat("DuckDB: ", t.status().message()));
  return t;
}

absl::StatusOr<Table> Connection::QueryUntrusted(std::string_view sql, std::chrono::milliseconds timeout,
                                                 uint64_t max_rows, uint64_t offset) {
  std::string text(sql);
  Extracted ex;
  idx_t count = duckdb_extract_statements(impl_->conn, text.c_str(), &ex.stmts);
  if (count == 0) {
    const char* e = ex.stmts ? duckdb_extract_statements_error(ex.stmts) : nullptr;
    if (e != nullptr && *e != '\0') return ErrorFromText(e);
    return absl::InvalidArgumentError("empty query: expected one SELECT statement");
  }
  if (count > 1) {
    return absl::InvalidArgumentError(
        StrCat("expected exactly one SELECT statement, got ", count, " statements"));
  }
  {
    Prepared check;
    if (duckdb_prepare_extracted_statement(impl_->conn, ex.stmts, 0, &check.stmt) != DuckDBSuccess) {
      return ErrorFromText(duckdb_prepare_error(check.stmt));
    }
    if (duckdb_prepared_statement_type(check.stmt) != DUCKDB_STATEMENT_TYPE_SELECT) {
      return absl::InvalidArgumentError("only read-only SELECT (or WITH ... SELECT) statements are allowed");
    }
  }
  if (offset > 0) {
    // Paging: the checked statement inside an outer SELECT (newlines end any
    // trailing line comment; the text was parsed as one statement above).
    std::string body(Trim(text));
    while (!body.empty() && (body.back() == ';' || std::isspace(static_cast<unsigned char>(body.back())))) {
      body.pop_back();
    }
    text = StrCat("SELECT * FROM (\n", body, "\n) AS sdb_page OFFSET ", offset);
  }
  Prepared prep;
  std::vector<Column> columns;
  std::vector<duckdb_type> types;
  if (auto st = PrepareReadable(impl_->conn, text, prep, columns, types); !st.ok()) return st;
  if (duckdb_nparams(prep.stmt) > 0) {
    return absl::InvalidArgumentError("query parameters ($1, ?) are not supported here");
  }
  return Run(impl_.get(), prep.stmt, std::move(columns), types, max_rows, timeout);
}

absl::StatusOr<std::unique_ptr<Appender>> Connection::OpenAppender(const std::string& table) {
  auto impl = std::make_unique<Appender::Impl>();
  impl->table = table;
  if (duckdb_appender_create(impl_->conn, nullptr, table.c_str(), &impl->app) != DuckDBSuccess) {
    std::string msg = impl->app ? duckdb_appender_error(impl->app) : "unknown error";
    return absl::InternalError(StrCat("cannot open appender on ", table, ": ", msg));
  }
  return std::unique_ptr<Appender>(new Appender(std::move(impl)));
}

Appender::Appender(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Appender::~Appender() = default;

absl::Status Appender::AppendBatch(const columnar::Batch& batch, int64_t trailing) {
  const auto& specs = batch.schema().columns;
  std::vector<duckdb_logical_type> types;
  for (const auto& spec : specs) types.push_back(LogicalTypeOf(spec.type));
  types.push_back(duckdb_create_logical_type(DUCKDB_TYPE_BIGINT));
  duckdb_data_chunk chunk = duckdb_create_data_chunk(types.data(), types.size());
  for (auto& t : types) duckdb_destroy_logical_type(&t);
  const size_t cap = duckdb_vector_size();
  absl::Status st;
  for (size_t begin = 0; begin < batch.num_rows() && st.ok(); begin += cap) {
    size_t n = std::min(cap, batch.num_rows() - begin);
    duckdb_data_chunk_reset(chunk);
    for (size_t c = 0; c < specs.size(); ++c) {
      FillVector(duckdb_data_chunk_get_vector(chunk, c), batch.column(c), begin, n);
    }
    auto* tail = static_cast<int64_t*>(duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk, specs.size())));
    for (size_t i = 0; i < n; ++i) tail[i] = trailing;
    duckdb_data_chunk_set_size(chunk, n);
    if (duckdb_append_data_chunk(impl_->app, chunk) != DuckDBSuccess) {
      st = absl::InternalError(StrCat("append to ", impl_->table, ": ", duckdb_appender_error(impl_->app)));
    }
  }
  duckdb_destroy_data_chunk(&chunk);
  if (!st.ok() && first_error_.ok()) first_error_ = st;
  return st;
}

absl::Status Appender::Close() {
  if (impl_->app == nullptr) return first_error_;
  if (duckdb_appender_close(impl_->app) != DuckDBSuccess && first_error_.ok()) {
    first_error_ = absl::InternalError(StrCat("append to ", impl_->table, ": ", duckdb_appender_error(impl_->app)));
  }
  duckdb_appender_destroy(&impl_->app);
  impl_->app = nullptr;
  return first_error_;
}

std::string QuoteLiteral(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace signaldb::engine
