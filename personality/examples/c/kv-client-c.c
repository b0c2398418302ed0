/* kv-client-c: the worked example's C client, a Mach task started by the
 * bootstrap task beside kv-server. It finds the server through the name
 * service and calls it, both through stubs mach-idl generated from
 * names.defs and kv.defs (bootstrap_names.h, kv.h), over libmach/c.
 * Prints "kv-client-c: N passed, N failed". */
#include <mach/mach_runtime.h>

#include "bootstrap_names.h"
#include "kv.h"

static int passed, failed;

static void check(const char *name, long long got, long long expected) {
    if (got == expected) {
        passed++;
    } else {
        failed++;
        mach_printf("check %s FAILED: got %lld, expected %lld\n", name, got, expected);
    }
}

/* Looks `kv` up, waiting up to 20 s for the server to register it. */
static kern_return_t find_server(mach_port_t bootstrap_port, mach_port_t *server) {
    bootstrap_names_client_t names;
    kern_return_t result = bootstrap_names_client_init(&names, bootstrap_port);
    if (result != KERN_SUCCESS)
        return result;
    result = bootstrap_names_lookup_wait(&names, "kv", 20000, server);
    bootstrap_names_client_destroy(&names);
    return result;
}

int mach_main(mach_port_t bootstrap_port) {
    mach_port_t server = MACH_PORT_NULL;
    check("lookup of kv", find_server(bootstrap_port, &server), KERN_SUCCESS);
    kv_client_t kv;
    check("client", kv_client_init(&kv, server), KERN_SUCCESS);

    const uint8_t hello[] = {'f', 'r', 'o', 'm', ' ', 'C'};
    check("put", kv_put(&kv, "c.greeting", hello, sizeof hello), KERN_SUCCESS);
    uint8_t value[512];
    uint32_t length = 0;
    check("get", kv_get(&kv, "c.greeting", value, &length), KERN_SUCCESS);
    check("get length", length, sizeof hello);
    check("get bytes", memcmp(value, hello, sizeof hello), 0);
    check("get of a missing key", kv_get(&kv, "c.missing", value, &length), KV_NOT_FOUND);
    int64_t total = 0;
    check("add", kv_add(&kv, "c.counter", 40, &total), KERN_SUCCESS);
    check("add again", kv_add(&kv, "c.counter", 2, &total), KERN_SUCCESS);
    check("add's total", total, 42);
    uint32_t keys = 0;
    uint64_t bytes = 0;
    check("count", kv_count(&kv, &keys, &bytes), KERN_SUCCESS);
    check("count's keys", keys >= 2, 1);
    static uint8_t data[20000];
    for (uint32_t index = 0; index < sizeof data; index++)
        data[index] = (uint8_t)index;
    uint32_t checksum = 0;
    uint64_t data_length = 0;
    check("digest of out-of-line data", kv_digest(&kv, data, sizeof data, &checksum, &data_length), KERN_SUCCESS);
    uint32_t expected = 0;
    for (uint32_t index = 0; index < sizeof data; index++)
        expected += data[index];
    check("digest's checksum", checksum, expected);
    check("digest's length", data_length, sizeof data);
    check("remove", kv_remove(&kv, "c.greeting", value, &length), KERN_SUCCESS);
    check("remove again", kv_remove(&kv, "c.greeting", value, &length), KV_NOT_FOUND);
    mach_port_t session = MACH_PORT_NULL;
    check("open_session", kv_open_session(&kv, "c", &session), KERN_SUCCESS);
    check("a session right", MACH_PORT_VALID(session), 1);
    check("log", kv_log(&kv, 2, "hello from C"), KERN_SUCCESS);
    kv_client_destroy(&kv);
    mach_printf("kv-client-c: %d passed, %d failed\n", passed, failed);
    return 0;
}
