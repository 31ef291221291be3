# cmake -DINPUT=<file> -DOUTPUT=<file.cc> -DSYMBOL=<name> -DNAMESPACE=<ns> -P EmbedText.cmake
# Writes a C++ source defining `extern const char SYMBOL[]` in NAMESPACE as a
# raw string literal holding INPUT's text, so the binary carries the file and
# never reads it at run time. Rewrites OUTPUT only when its text changes.
file(READ "${INPUT}" text)
set(delimiter "sdb_embed")
string(FIND "${text}" ")${delimiter}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter )${delimiter}\"")
endif()
set(code "// Generated from ${INPUT} by cmake/EmbedText.cmake; do not edit.\n")
string(APPEND code "namespace ${NAMESPACE} {\n")
string(APPEND code "extern const char ${SYMBOL}[];\n")
string(APPEND code "const char ${SYMBOL}[] = R\"${delimiter}(${text})${delimiter}\";\n")
string(APPEND code "}  // namespace ${NAMESPACE}\n")
file(WRITE "${OUTPUT}.tmp" "${code}")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
