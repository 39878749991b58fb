// Zstandard, the block store's record compression (Docs/ledger.md, "Block compression"): at its fast levels about
// four times as fast as libdeflate's fastest deflate on blocks, and smaller; it decompresses at gigabytes a second.
#ifndef CZSTD_SHIM_H
#define CZSTD_SHIM_H

#include <zstd.h>

// ZSTD_CONTENTSIZE_UNKNOWN and ZSTD_CONTENTSIZE_ERROR are macros of a cast Swift does not import.
static inline int CZstd_isContentSizeKnown(unsigned long long size) {
    return size != ZSTD_CONTENTSIZE_UNKNOWN && size != ZSTD_CONTENTSIZE_ERROR;
}

#endif
