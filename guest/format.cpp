// The guest's vsnprintf (enough for diagnostics: integers, hex, pointers, strings, chars).
#include "runtime.h"

namespace guest {

namespace {

struct Out {
    char* buf;
    size_t size;
    size_t len = 0;
    void put(char c) {
        if (len + 1 < size) buf[len] = c;
        ++len;
    }
};

void put_number(Out& o, uint64_t v, unsigned base, bool negative, int width, char pad) {
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    int total = n + (negative ? 1 : 0);
    if (negative && pad == '0') o.put('-');
    for (; total < width; ++total) o.put(pad);
    if (negative && pad != '0') o.put('-');
    while (n) o.put(tmp[--n]);
}

}  // namespace

int format(char* buf, size_t size, const char* fmt, va_list ap) {
    Out o{buf, size};
    for (const char* p = fmt; *p; ++p) {
        if (*p != '%') {
            o.put(*p);
            continue;
        }
        ++p;
        bool alt = false;
        char pad = ' ';
        int width = 0;
        int longs = 0;
        for (;; ++p) {
            if (*p == '#')
                alt = true;
            else if (*p == '0')
                pad = '0';
            else
                break;
        }
        while (*p >= '0' && *p <= '9') width = width * 10 + (*p++ - '0');
        while (*p == 'l' || *p == 'z') {
            ++longs;
            ++p;
        }
        switch (*p) {
            case 'd':
            case 'i': {
                int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
                put_number(o, v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v), 10,
                           v < 0, width, pad);
                break;
            }
            case 'u':
                put_number(o, longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, false, width,
                           pad);
                break;
            case 'x':
            case 'p': {
                uint64_t v = (longs || *p == 'p') ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
                if (alt || *p == 'p') {
                    o.put('0');
                    o.put('x');
                }
                put_number(o, v, 16, false, width, pad);
                break;
            }
            case 's':
                for (const char* s = va_arg(ap, const char*); s && *s; ++s) o.put(*s);
                break;
            case 'c': o.put(static_cast<char>(va_arg(ap, int))); break;
            case '%': o.put('%'); break;
            case 0: --p; break;
            default: o.put('%'); o.put(*p);
        }
    }
    if (size) buf[o.len < size ? o.len : size - 1] = 0;
    return static_cast<int>(o.len);
}

}  // namespace guest
