// Adapters between zlib and Swift: only the macros Swift cannot call, each `static inline` and prefixed `CZlib_`.
#ifndef CZLIB_SHIM_H
#define CZLIB_SHIM_H

#include <zlib.h>

// inflateInit2 is a macro that passes the library version and the stream size. (Compression is libdeflate's.)
static inline int CZlib_inflateInit2(z_streamp stream, int windowBits) { return inflateInit2(stream, windowBits); }

#endif
