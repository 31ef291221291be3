# Finds every third-party dependency: Debian packages through CMake config or
# pkg-config, and DuckDB from the npm folder that scripts/setup.sh fills.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(Protobuf REQUIRED)
pkg_check_modules(GRPCPP REQUIRED IMPORTED_TARGET grpc++)
find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
find_package(absl REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(GTest REQUIRED)
find_package(benchmark REQUIRED)
pkg_check_modules(TOMLPP REQUIRED IMPORTED_TARGET tomlplusplus)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
pkg_check_modules(JEMALLOC REQUIRED IMPORTED_TARGET jemalloc)
find_path(HTTPLIB_INCLUDE_DIR httplib.h REQUIRED)
find_package(CLI11 CONFIG REQUIRED)

set(SIGNALDB_NPM_DIR ${CMAKE_SOURCE_DIR}/deps/node_modules)
set(DUCKDB_LIB_DIR ${SIGNALDB_NPM_DIR}/@duckdb/node-bindings-linux-x64)
set(DUCKDB_INCLUDE_DIR ${SIGNALDB_NPM_DIR}/duckdb/src/duckdb/src/include)
if(NOT EXISTS ${DUCKDB_LIB_DIR}/libduckdb.so OR NOT EXISTS ${DUCKDB_INCLUDE_DIR}/duckdb.h)
  message(FATAL_ERROR "DuckDB not found under ${SIGNALDB_NPM_DIR}; run scripts/setup.sh (or make setup)")
endif()
add_library(duckdb SHARED IMPORTED GLOBAL)
# Only duckdb.h is exposed; the header folder holds DuckDB's whole C++ tree.
set(DUCKDB_C_HEADER_DIR ${CMAKE_BINARY_DIR}/duckdb-include)
file(COPY ${DUCKDB_INCLUDE_DIR}/duckdb.h DESTINATION ${DUCKDB_C_HEADER_DIR})
set_target_properties(duckdb PROPERTIES
  IMPORTED_LOCATION ${DUCKDB_LIB_DIR}/libduckdb.so
  IMPORTED_NO_SONAME TRUE
  INTERFACE_INCLUDE_DIRECTORIES ${DUCKDB_C_HEADER_DIR})
# Binaries find libduckdb.so through an rpath to the npm folder.
set(CMAKE_BUILD_RPATH ${DUCKDB_LIB_DIR})
