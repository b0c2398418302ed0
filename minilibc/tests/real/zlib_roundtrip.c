/* zlib exercised through its public API (the crates.io libz-sys package
 * ships the library without example.c/minigzip.c): deflate/inflate round
 * trips at every level and strategy, compress/uncompress, checksums, and
 * the gzip file API (gzopen/gzprintf/gzwrite/gzread/gzseek/gzgets).
 * Usage: zlib_roundtrip DIRECTORY -> prints digests; leaves DIRECTORY/out.gz
 * for the caller to check with the system gzip. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zlib.h"

static unsigned long long state = 88172645463325252ull;
static unsigned next(void) { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return (unsigned)state; }

static int round_trip(const unsigned char *data, size_t length, int level, int strategy) {
    z_stream stream;
    memset(&stream, 0, sizeof stream);
    if (deflateInit2(&stream, level, Z_DEFLATED, 15, 8, strategy) != Z_OK) return -1;
    size_t capacity = deflateBound(&stream, length);
    unsigned char *compressed = malloc(capacity), *restored = malloc(length + 1);
    stream.next_in = (unsigned char *)data;
    stream.avail_in = (unsigned)length;
    stream.next_out = compressed;
    /* Feed the output space in small pieces to exercise streaming. */
    int status;
    do {
        stream.avail_out = 777;
        if (stream.next_out + 777 > compressed + capacity) stream.avail_out = (unsigned)(compressed + capacity - stream.next_out);
        status = deflate(&stream, Z_FINISH);
    } while (status == Z_OK || status == Z_BUF_ERROR);
    size_t compressed_length = stream.total_out;
    deflateEnd(&stream);
    if (status != Z_STREAM_END) return -2;
    z_stream inflater;
    memset(&inflater, 0, sizeof inflater);
    inflateInit(&inflater);
    inflater.next_in = compressed;
    inflater.avail_in = (unsigned)compressed_length;
    inflater.next_out = restored;
    inflater.avail_out = (unsigned)length + 1;
    status = inflate(&inflater, Z_FINISH);
    size_t restored_length = inflater.total_out;
    inflateEnd(&inflater);
    int same = status == Z_STREAM_END && restored_length == length && memcmp(data, restored, length) == 0;
    printf("level %d strategy %d: %zu -> %zu bytes, crc %08lx adler %08lx, %s\n", level, strategy, length, compressed_length,
           crc32(0, compressed, (unsigned)compressed_length), adler32(1, data, (unsigned)length), same ? "round trip ok" : "MISMATCH");
    free(compressed);
    free(restored);
    return same ? 0 : -3;
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: %s directory\n", argv[0]); return 2; }
    size_t length = 300000;
    unsigned char *data = malloc(length);
    for (size_t i = 0; i < length; i++) {
        if ((i / 5000) % 3 == 0) data[i] = (unsigned char)next();
        else data[i] = "the quick brown fox jumps over the lazy dog\n"[(i * 7 + i / 97) % 44];
    }
    int failures = 0;
    for (int level = 0; level <= 9; level++) failures += round_trip(data, length, level, Z_DEFAULT_STRATEGY) != 0;
    failures += round_trip(data, length, 6, Z_FILTERED) != 0;
    failures += round_trip(data, length, 6, Z_HUFFMAN_ONLY) != 0;
    failures += round_trip(data, length, 6, Z_RLE) != 0;
    failures += round_trip(data, 0, 6, Z_DEFAULT_STRATEGY) != 0;

    unsigned long bound = compressBound(length);
    unsigned char *packed = malloc(bound), *unpacked = malloc(length);
    unsigned long packed_length = bound, unpacked_length = length;
    int status = compress2(packed, &packed_length, data, length, 9);
    status |= uncompress(unpacked, &unpacked_length, packed, packed_length);
    printf("compress2/uncompress: %d %lu %lu %s\n", status, packed_length, unpacked_length, memcmp(data, unpacked, length) ? "MISMATCH" : "same");
    failures += status != Z_OK || memcmp(data, unpacked, length) != 0;
    unpacked_length = 10;
    printf("uncompress into a small buffer: %d (Z_BUF_ERROR is %d)\n", uncompress(unpacked, &unpacked_length, packed, packed_length), Z_BUF_ERROR);

    char path[4096];
    snprintf(path, sizeof path, "%s/out.gz", argv[1]);
    gzFile output = gzopen(path, "wb9");
    if (!output) { printf("gzopen failed\n"); return 1; }
    gzprintf(output, "header line %d %s %.3f\n", 42, "text", 2.5);
    gzwrite(output, data, (unsigned)length);
    gzputs(output, "\nlast line\n");
    gzclose(output);
    gzFile input = gzopen(path, "rb");
    char line[256];
    printf("gzgets: %s", gzgets(input, line, sizeof line));
    unsigned char *back = malloc(length);
    int got = gzread(input, back, (unsigned)length);
    printf("gzread %d bytes, %s\n", got, got == (int)length && memcmp(back, data, length) == 0 ? "same" : "MISMATCH");
    failures += got != (int)length || memcmp(back, data, length) != 0;
    printf("gzseek %ld gztell %ld\n", (long)gzseek(input, 10, SEEK_SET), (long)gztell(input));
    printf("after seek: %s", gzgets(input, line, sizeof line));
    gzclose(input);
    printf("zlib %s, %d failures\n", zlibVersion(), failures);
    return failures != 0;
}
