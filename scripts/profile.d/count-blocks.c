/* A QEMU TCG plugin (QEMU 7.2's plugin interface, version 1, declared here
 * as Debian ships no qemu-plugin.h): how many times each translation block
 * ran, written at exit as lines "ADDRESS RUNS INSTRUCTIONS BYTES" (BYTES:
 * the block's first 16 bytes of code in hex, which tell apart the programs
 * that all run at 0x400000; a block is keyed by its address, length and a
 * hash of its code). Used by scripts/profile. Argument: out=FILE. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op, void *ptr, uint64_t imm);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn;
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

struct entry { uint64_t vaddr; uint64_t insns; uint64_t count; uint64_t hash; unsigned char bytes[16]; unsigned nbytes; };
#define SLOTS (1u<<21)
static struct entry *slots;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const char *out = "blocks.txt";

static void trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    uint64_t vaddr = qemu_plugin_tb_vaddr(tb);
    size_t n = qemu_plugin_tb_n_insns(tb);
    unsigned char bytes[16]; unsigned nbytes = 0; uint64_t hash = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        const unsigned char *d = qemu_plugin_insn_data(insn); size_t z = qemu_plugin_insn_size(insn);
        for (size_t j = 0; j < z; j++) { hash = (hash ^ d[j]) * 1099511628211ull; if (nbytes < 16) bytes[nbytes++] = d[j]; }
    }
    uint64_t key = vaddr ^ ((uint64_t)n << 56) ^ hash;
    pthread_mutex_lock(&lock);
    uint64_t h = (key * 0x9E3779B97F4A7C15ull) >> 43;
    struct entry *e;
    for (;;) {
        e = &slots[h & (SLOTS - 1)];
        if (e->insns == 0) { e->vaddr = vaddr; e->insns = n; e->hash = hash; memcpy(e->bytes, bytes, nbytes); e->nbytes = nbytes; break; }
        if (e->vaddr == vaddr && e->insns == n && e->hash == hash) break;
        h++;
    }
    pthread_mutex_unlock(&lock);
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &e->count, 1);
}

static void dump(qemu_plugin_id_t id, void *p)
{
    FILE *f = fopen(out, "w");
    for (size_t i = 0; i < SLOTS; i++) {
        struct entry *e = &slots[i];
        if (e->count) { fprintf(f, "%lx %lu %lu ", e->vaddr, e->count, e->insns); for (unsigned j = 0; j < e->nbytes; j++) fprintf(f, "%02x", e->bytes[j]); fprintf(f, "\n"); }
    }
    fclose(f);
}

__attribute__((visibility("default")))
int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (!strncmp(argv[i], "out=", 4)) out = strdup(argv[i] + 4);
    slots = calloc(SLOTS, sizeof *slots);
    qemu_plugin_register_vcpu_tb_trans_cb(id, trans);
    qemu_plugin_register_atexit_cb(id, dump, NULL);
    return 0;
}
