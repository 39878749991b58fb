// libdeflate, for compressing blocks into the zlib format (Docs/ledger.md, "Block compression"): one-shot and about
// twice as fast as zlib's own deflate at its fastest level. zlib still decompresses.
#ifndef CLIBDEFLATE_SHIM_H
#define CLIBDEFLATE_SHIM_H

#include <libdeflate.h>

#endif
