/* mach_printf: a small printf for programs without minilibc. Formats into
 * a 256-byte line (longer output is cut) and writes it to the process's
 * standard output, or with one debug_print trap to the kernel log (a boot
 * module, or text descriptor 1 refused). */
#include <stdarg.h>
#include <mach/mach_runtime.h>

struct line {
    char bytes[256];
    size_t length;
};

static void put(struct line *line, char character) {
    if (line->length < sizeof line->bytes)
        line->bytes[line->length++] = character;
}

static void put_padded(struct line *line, const char *text, size_t length, int width) {
    for (int pad = width - (int)length; pad > 0; pad--)
        put(line, ' ');
    for (size_t index = 0; index < length; index++)
        put(line, text[index]);
}

static void put_number(struct line *line, uint64_t value, unsigned base, int negative, int width, char pad) {
    char digits[24];
    size_t count = 0;
    do {
        digits[count++] = "0123456789abcdef"[value % base];
        value /= base;
    } while (value);
    if (negative)
        digits[count++] = '-';
    for (int fill = width - (int)count; fill > 0; fill--)
        put(line, pad);
    while (count)
        put(line, digits[--count]);
}

int mach_printf(const char *format, ...) {
    struct line line = {.length = 0};
    va_list arguments;
    va_start(arguments, format);
    for (const char *cursor = format; *cursor; cursor++) {
        if (*cursor != '%') {
            put(&line, *cursor);
            continue;
        }
        cursor++;
        char pad = ' ';
        if (*cursor == '0') {
            pad = '0';
            cursor++;
        }
        int width = 0;
        while (*cursor >= '0' && *cursor <= '9')
            width = width * 10 + (*cursor++ - '0');
        int longs = 0;
        while (*cursor == 'l' || *cursor == 'z') {
            longs++;
            cursor++;
        }
        switch (*cursor) {
        case 'd':
        case 'i': {
            int64_t value = longs ? va_arg(arguments, int64_t) : va_arg(arguments, int);
            uint64_t magnitude = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
            put_number(&line, magnitude, 10, value < 0, width, pad);
            break;
        }
        case 'u':
        case 'x': {
            uint64_t value = longs ? va_arg(arguments, uint64_t) : va_arg(arguments, unsigned);
            put_number(&line, value, *cursor == 'x' ? 16 : 10, 0, width, pad);
            break;
        }
        case 'p':
            put(&line, '0');
            put(&line, 'x');
            put_number(&line, (uint64_t)va_arg(arguments, void *), 16, 0, width, pad);
            break;
        case 'c':
            put(&line, (char)va_arg(arguments, int));
            break;
        case 's': {
            const char *text = va_arg(arguments, const char *);
            if (!text)
                text = "(null)";
            put_padded(&line, text, strlen(text), width);
            break;
        }
        case '%':
            put(&line, '%');
            break;
        default: /* unknown conversion: print it as written */
            put(&line, '%');
            if (*cursor)
                put(&line, *cursor);
            else
                cursor--;
        }
    }
    va_end(arguments);
    if (mach_write_descriptor(1, line.bytes, line.length) != KERN_SUCCESS)
        mach_debug_print(line.bytes, line.length);
    return (int)line.length;
}
