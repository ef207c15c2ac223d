/* One tiny Windows program that plays micromamba.exe, python.exe, curl.exe or certutil.exe,
 * depending on the name it is started under, so that bootstrap.bat runs unchanged under
 * Wine's cmd with real executables (a .bat stand-in would need CALL, which bootstrap.bat
 * never uses on values because CALL doubles carets and expands % a second time).
 *
 * Every run appends one JSON line to %STANDIN_LOG% (if set): role, exe (its own path), argv, cwd,
 * environment.
 *   micromamba --version    prints %STANDIN_VERSION% (default 2.8.1)
 *   micromamba create ...   refuses a MAMBA_SSL_NO_REVOKE or MAMBA_SSL_VERIFY libmamba cannot
 *                           read, with libmamba's words (exit 1);
 *                           with STANDIN_FAIL=1 fails like micromamba (exit 1), =solve as a
 *                           failed solve does (libmamba's words, exit 1); otherwise
 *                           makes --prefix with conda-meta\history and a python.exe (itself)
 *   python ... -c CODE ...  does nothing, exit 0: logged as the role "python-c" (bootstrap.bat's last line
 *                           comes from mambaboot's own code on the private Python; tests run CODE themselves)
 *   python ...              exits with %STANDIN_PYTHON_EXIT% (default 0); with %STANDIN_PYTHON_COPY%
 *                           set, plays `python -I -S PREFIX\.mambaboot\envvars.py PREFIX\.` run by
 *                           activate.bat: copies that file (what envvars.py wrote, on Linux, for
 *                           the same environment) to its last argument's .mambaboot\vars.bat
 *   curl ... -o OUT URL     copies a file:// URL to OUT; curl's exit 37 when it cannot;
 *                           with STANDIN_CURL_EXIT=N it fails with curl's exit N instead, with
 *                           STANDIN_CURL_STATUS=S as -f fails on HTTP status S (exit 22), with
 *                           STANDIN_CURL_CONNECT=C as a proxy refusing CONNECT with C fails (exit 56);
 *                           given -w "%{http_code} %{http_connect}\n" it writes both (else 000) to
 *                           stdout; an OUT
 *                           holding a character outside ASCII fails as a curl.exe built without
 *                           Unicode file names fails on one outside the ANSI code page (exit 23);
 *                           --max-filesize is not applied, as a curl.exe before 8.4.0 does not
 *                           apply it to a body sent without Content-Length
 *   certutil -hashfile F SHA256   the real SHA-256, in certutil's output format
 *                           (STANDIN_CERTUTIL_STYLE=spaced: Windows 7's "AB CD ..." form)
 *   net use X:              as Windows' net.exe answers for a drive letter: exit 0 and the mapping when X is
 *                           a letter in %STANDIN_NET_DRIVES% (drives mapped to a share, as `net use` or
 *                           `pushd \\server\share` map them), else "The network connection could not be
 *                           found." and exit 2; anything else exit 1. It writes no log line (bootstrap.bat
 *                           asks on every run that takes the current directory as the default parent)
 *   hold FILE               opens FILE sharing nothing, as an antivirus scanning it does, says
 *                           "held" on stdout, and keeps it open until its stdin ends
 *   with STANDIN_BLOCKED=ROLE, a run in that role fails as cmd fails to start a program Windows
 *                           blocks (AppLocker, SRP): Windows' words on stderr, the error code 1260
 *                           (ERROR_ACCESS_DISABLED_BY_POLICY) as the exit code, nothing done; with
 *                           STANDIN_BLOCKED_CODE=4551 as App Control and Smart App Control block one
 *                           (ERROR_SYSTEM_INTEGRITY_POLICY_VIOLATION), in their words
 *   with STANDIN_KILL=ROLE, a run in that role does its work, then ends its parent (the cmd running
 *                           the script) outright, as a closed window or Task Manager's "End task"
 *                           does (TerminateProcess: nothing of the script runs after), and exits 1
 *
 * Built by tests/support/wine.py with x86_64-w64-mingw32-gcc -municode.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <windows.h>
#include <tlhelp32.h>

/* ------------------------------------------------------------------ SHA-256 (FIPS 180-4) */

static const unsigned int K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

typedef struct {
    unsigned int h[8];
    unsigned char block[64];
    unsigned long long length;
    size_t used;
} Sha256;

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha_block(Sha256 *s, const unsigned char *p) {
    unsigned int w[64], a, b, c, d, e, f, g, h, t1, t2;
    for (int i = 0; i < 16; i++)
        w[i] = (unsigned int)p[4 * i] << 24 | (unsigned int)p[4 * i + 1] << 16 | (unsigned int)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        unsigned int s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        unsigned int s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = s->h[0]; b = s->h[1]; c = s->h[2]; d = s->h[3]; e = s->h[4]; f = s->h[5]; g = s->h[6]; h = s->h[7];
    for (int i = 0; i < 64; i++) {
        t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    s->h[0] += a; s->h[1] += b; s->h[2] += c; s->h[3] += d; s->h[4] += e; s->h[5] += f; s->h[6] += g; s->h[7] += h;
}

static void sha_init(Sha256 *s) {
    static const unsigned int h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, h0, sizeof h0);
    s->length = 0;
    s->used = 0;
}

static void sha_update(Sha256 *s, const unsigned char *p, size_t n) {
    s->length += n;
    while (n--) {
        s->block[s->used++] = *p++;
        if (s->used == 64) {
            sha_block(s, s->block);
            s->used = 0;
        }
    }
}

static void sha_final(Sha256 *s, unsigned char out[32]) {
    unsigned long long bits = s->length * 8;
    unsigned char pad = 0x80, zero = 0, len[8];
    sha_update(s, &pad, 1);
    while (s->used != 56) sha_update(s, &zero, 1);
    for (int i = 0; i < 8; i++) len[i] = (unsigned char)(bits >> (56 - 8 * i));
    sha_update(s, len, 8);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (unsigned char)(s->h[i] >> 24);
        out[4 * i + 1] = (unsigned char)(s->h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(s->h[i] >> 8);
        out[4 * i + 3] = (unsigned char)s->h[i];
    }
}

/* ------------------------------------------------------------------ the log */

static void json_string(FILE *f, const wchar_t *s) {
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fprintf(f, "\\%c", (char)*s);
        else if (*s >= 0x20 && *s < 0x7f) fputc((char)*s, f);
        else fprintf(f, "\\u%04x", (unsigned)*s);
    }
    fputc('"', f);
}

static void log_run(const wchar_t *role, int argc, wchar_t **argv) {
    const wchar_t *path = _wgetenv(L"STANDIN_LOG");
    if (!path || !*path) return;
    FILE *f = _wfopen(path, L"ab");
    if (!f) return;
    wchar_t cwd[4096];
    GetCurrentDirectoryW(4096, cwd);
    wchar_t self[4096];
    GetModuleFileNameW(NULL, self, 4096);
    fputs("{\"role\": ", f);
    json_string(f, role);
    fputs(", \"exe\": ", f);
    json_string(f, self);
    fputs(", \"cwd\": ", f);
    json_string(f, cwd);
    fputs(", \"argv\": [", f);
    for (int i = 0; i < argc; i++) {
        if (i) fputs(", ", f);
        json_string(f, argv[i]);
    }
    fputs("], \"env\": {", f);
    wchar_t *block = GetEnvironmentStringsW(), *e;
    int first = 1;
    for (e = block; *e; e += wcslen(e) + 1) {
        const wchar_t *eq = wcschr(e + 1, L'=');  /* names like =C: start with '=' */
        if (!eq) continue;
        wchar_t name[1024];
        size_t n = (size_t)(eq - e) < 1023 ? (size_t)(eq - e) : 1023;
        wcsncpy(name, e, n);
        name[n] = 0;
        if (!first) fputs(", ", f);
        first = 0;
        json_string(f, name);
        fputs(": ", f);
        json_string(f, eq + 1);
    }
    FreeEnvironmentStringsW(block);
    fputs("}}\n", f);
    fclose(f);
}

/* ------------------------------------------------------------------ roles */

static int make_dirs(const wchar_t *path) {
    wchar_t buf[4096];
    wcsncpy(buf, path, 4095);
    buf[4095] = 0;
    for (wchar_t *p = buf + 3; *p; p++) {
        if (*p == L'\\' || *p == L'/') {
            wchar_t keep = *p;
            *p = 0;
            CreateDirectoryW(buf, NULL);
            *p = keep;
        }
    }
    return CreateDirectoryW(buf, NULL) || GetLastError() == ERROR_ALREADY_EXISTS;
}

/* yaml-cpp's convert<bool>::decode (src/convert.cpp): y/n, yes/no, true/false, on/off, each in
 * lower case, Capitalised or UPPER case (IsFlexibleCase), nothing else: 1 and 0 are refused. */
static int yaml_cpp_bool(const char *v) {
    static const char *words[] = {"y", "n", "yes", "no", "true", "false", "on", "off"};
    char low[8];
    size_t n = strlen(v);
    if (n == 0 || n >= sizeof low) return 0;
    int lower = 1, upper_rest = 1;
    for (size_t i = 0; i < n; i++) {
        low[i] = (char)(v[i] >= 'A' && v[i] <= 'Z' ? v[i] + 32 : v[i]);
        if (!(v[i] >= 'a' && v[i] <= 'z')) lower = 0;
        if (i && !(v[i] >= 'A' && v[i] <= 'Z')) upper_rest = 0;
    }
    low[n] = 0;
    int first_upper = v[0] >= 'A' && v[0] <= 'Z';
    int rest_lower = 1;
    for (size_t i = 1; i < n; i++) if (!(v[i] >= 'a' && v[i] <= 'z')) rest_lower = 0;
    if (!lower && !(first_upper && (rest_lower || upper_rest))) return 0;
    for (size_t i = 0; i < sizeof words / sizeof *words; i++) if (!strcmp(low, words[i])) return 1;
    return 0;
}

/* libmamba reads MAMBA_<KEY> as YAML (Configurable::compute, Source<T>::deserialize) and stops
 * on what yaml-cpp cannot read: here a boolean it does not know, and a string whose plain scalar
 * starts with a character YAML reserves (@ `), the cases a script can get wrong. */
static int libmamba_env(void) {
    const char *v = getenv("MAMBA_SSL_NO_REVOKE");
    const char *verify = getenv("MAMBA_SSL_VERIFY");
    const char *name = NULL, *var = NULL;
    if (v && !yaml_cpp_bool(v)) name = "ssl_no_revoke", var = "MAMBA_SSL_NO_REVOKE";
    else if (verify && (*verify == '@' || *verify == '`')) name = "ssl_verify", var = "MAMBA_SSL_VERIFY", v = verify;
    if (!name) return 0;
    fprintf(stderr, "error    libmamba Bad conversion of configurable '%s' from environment variable '%s' with value "
            "'%s' : yaml-cpp: error at line 1, column 1: bad conversion\n", name, var, v);
    fputs("critical libmamba yaml-cpp: error at line 1, column 1: bad conversion\n", stderr);
    return 1;
}

static int micromamba(int argc, wchar_t **argv) {
    if (argc > 1 && !wcscmp(argv[1], L"--version")) {
        const char *v = getenv("STANDIN_VERSION");
        printf("%s\n", v && *v ? v : "2.8.1");
        return 0;
    }
    if (argc < 2 || wcscmp(argv[1], L"create")) {
        fputs("The following argument was not expected\n", stderr);
        return 1;
    }
    if (libmamba_env()) return 1;
    const char *fail = getenv("STANDIN_FAIL");
    if (fail && !strcmp(fail, "1")) {
        fputs("critical libmamba injected failure\n", stderr);
        return 1;
    }
    if (fail && !strcmp(fail, "solve")) {
        fputs("error    libmamba Could not solve for environment specs\n    The following package could not be installed\n"
              "    \u2514\u2500 python =3.12 does not exist (perhaps a typo or a missing channel).\n"
              "critical libmamba Could not solve for environment specs\n", stderr);
        return 1;
    }
    const wchar_t *prefix = NULL;
    for (int i = 2; i + 1 < argc; i++)
        if (!wcscmp(argv[i], L"--prefix") || !wcscmp(argv[i], L"-p")) prefix = argv[i + 1];
    if (!prefix) {
        fputs("critical libmamba No target prefix specified\n", stderr);
        return 1;
    }
    wchar_t meta[4096], file[4096], self[4096];
    swprintf(meta, 4096, L"%ls\\conda-meta", prefix);
    if (!make_dirs(meta)) {
        fwprintf(stderr, L"critical libmamba cannot create %ls\n", meta);
        return 1;
    }
    swprintf(file, 4096, L"%ls\\history", meta);
    FILE *h = _wfopen(file, L"wb");
    if (h) fclose(h);
    GetModuleFileNameW(NULL, self, 4096);
    swprintf(file, 4096, L"%ls\\python.exe", prefix);
    if (!CopyFileW(self, file, FALSE)) {
        fputs("critical libmamba cannot link python\n", stderr);
        return 1;
    }
    puts("Transaction finished");
    return 0;
}

static int has_code(int argc, wchar_t **argv) {
    for (int i = 1; i < argc && i < 6; i++)
        if (!wcscmp(argv[i], L"-c")) return 1;
    return 0;
}

static int python(int argc, wchar_t **argv) {
    if (has_code(argc, argv)) return 0;
    const wchar_t *copy = _wgetenv(L"STANDIN_PYTHON_COPY");
    if (copy && *copy && argc > 1) {
        wchar_t dest[4096];
        swprintf(dest, 4096, L"%ls\\.mambaboot\\vars.bat", argv[argc - 1]);
        return CopyFileW(copy, dest, FALSE) ? 0 : 1;
    }
    const char *code = getenv("STANDIN_PYTHON_EXIT");
    puts("python stand-in: hand-over received");
    return code ? atoi(code) : 0;
}

static int curl(int argc, wchar_t **argv) {
    const wchar_t *out = NULL, *url = NULL;
    int write_out = 0;
    for (int i = 1; i < argc; i++) {
        if (!wcscmp(argv[i], L"-o") && i + 1 < argc) out = argv[++i];
        else if (!wcscmp(argv[i], L"-w") && i + 1 < argc) write_out = !wcscmp(argv[++i], L"%{http_code} %{http_connect}\\n");
        else if ((!wcscmp(argv[i], L"--retry") || !wcscmp(argv[i], L"--connect-timeout")
                  || !wcscmp(argv[i], L"--max-redirs") || !wcscmp(argv[i], L"--proto-redir")
                  || !wcscmp(argv[i], L"--max-time") || !wcscmp(argv[i], L"--retry-max-time")
                  || !wcscmp(argv[i], L"--max-filesize")) && i + 1 < argc) i++;
        else if (argv[i][0] != L'-') url = argv[i];
    }
    const char *status = getenv("STANDIN_CURL_STATUS"), *connect = getenv("STANDIN_CURL_CONNECT");
    if (write_out) printf("%s %s\n", status && *status ? status : "000", connect && *connect ? connect : "000");
    if (connect && *connect) {  /* a proxy refused the tunnel: curl's exit 56, no HTTP status of the server */
        fprintf(stderr, "curl: (56) CONNECT tunnel failed, response %s\n", connect);
        return 56;
    }
    if (status && *status) {
        fprintf(stderr, "curl: (22) The requested URL returned error: %s\n", status);
        return 22;
    }
    const char *fail = getenv("STANDIN_CURL_EXIT");
    if (fail && *fail) {
        fprintf(stderr, "curl: (%s) injected failure\n", fail);
        return atoi(fail);
    }
    for (const wchar_t *c = out; c && *c; c++)
        if (*c > 0x7f) {
            fputs("curl: (23) Failure writing output to destination\n", stderr);
            return 23;
        }
    if (!out || !url || wcsncmp(url, L"file:///", 8)) {
        fputs("curl stand-in: only -o FILE file:///URL is modelled\n", stderr);
        return 2;
    }
    wchar_t src[4096];
    wcsncpy(src, url + 8, 4095);
    src[4095] = 0;
    for (wchar_t *p = src; *p; p++)
        if (*p == L'/') *p = L'\\';
    if (!CopyFileW(src, out, FALSE)) {
        fwprintf(stderr, L"curl: (37) Couldn't open file %ls\n", src);
        return 37;
    }
    return 0;
}

static int certutil(int argc, wchar_t **argv) {
    if (argc != 4 || wcscmp(argv[1], L"-hashfile") || wcscmp(argv[3], L"SHA256")) {
        fputs("certutil stand-in: only -hashfile FILE SHA256 is modelled\n", stderr);
        return 1;
    }
    FILE *f = _wfopen(argv[2], L"rb");
    if (!f) {
        puts("CertUtil: -hashfile command FAILED: 0x80070002 (WIN32: 2 ERROR_FILE_NOT_FOUND)");
        return 2;
    }
    Sha256 s;
    unsigned char buf[65536], digest[32];
    size_t n;
    sha_init(&s);
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) sha_update(&s, buf, n);
    fclose(f);
    sha_final(&s, digest);
    const char *style = getenv("STANDIN_CERTUTIL_STYLE");
    int spaced = style && !strcmp(style, "spaced");
    wprintf(L"SHA256 hash of %ls:\r\n", argv[2]);
    for (int i = 0; i < 32; i++) printf(spaced ? (i ? " %02X" : "%02X") : "%02x", digest[i]);
    printf("\r\nCertUtil: -hashfile command completed successfully.\r\n");
    return 0;
}

static int hold(int argc, wchar_t **argv) {
    if (argc != 2) {
        fputs("hold stand-in: hold FILE\n", stderr);
        return 2;
    }
    HANDLE h = CreateFileW(argv[1], GENERIC_READ, 0, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        fprintf(stderr, "hold stand-in: cannot open (error %lu)\n", GetLastError());
        return 1;
    }
    puts("held");
    fflush(stdout);
    while (getchar() != EOF) {}
    CloseHandle(h);
    return 0;
}

static int net(int argc, wchar_t **argv) {
    if (argc != 3 || _wcsicmp(argv[1], L"use") || wcslen(argv[2]) != 2 || argv[2][1] != L':') {
        fputs("net (stand-in): only \"net use X:\"\n", stderr);
        return 1;
    }
    const wchar_t *mapped = _wgetenv(L"STANDIN_NET_DRIVES");
    wchar_t letter = towupper(argv[2][0]);
    for (const wchar_t *p = mapped; p && *p; p++) {
        if (towupper(*p) == letter) {
            wprintf(L"Local name        %lc:\nRemote name       \\\\server\\share\nResource type     Disk\n"
                    L"The command completed successfully.\n\n", letter);
            return 0;
        }
    }
    fputs("The network connection could not be found.\n\nMore help is available by typing NET HELPMSG 2250.\n\n", stderr);
    return 2;
}

static int end_parent(void) {
    DWORD self = GetCurrentProcessId(), parent = 0;
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    PROCESSENTRY32W e;
    e.dwSize = sizeof e;
    for (BOOL ok = Process32FirstW(snap, &e); ok; ok = Process32NextW(snap, &e))
        if (e.th32ProcessID == self) parent = e.th32ParentProcessID;
    CloseHandle(snap);
    HANDLE h = OpenProcess(PROCESS_TERMINATE, FALSE, parent);
    if (!h || !TerminateProcess(h, 1)) {
        fputs("stand-in: could not end its parent\n", stderr);
        return 9;
    }
    return 1;
}

static int role_run(const wchar_t *role, int argc, wchar_t **argv) {
    if (!wcscmp(role, L"micromamba")) return micromamba(argc, argv);
    if (!wcscmp(role, L"python")) return python(argc, argv);
    if (!wcscmp(role, L"curl")) return curl(argc, argv);
    if (!wcscmp(role, L"certutil")) return certutil(argc, argv);
    if (!wcscmp(role, L"hold")) return hold(argc, argv);
    if (!wcscmp(role, L"net")) return net(argc, argv);
    fwprintf(stderr, L"stand-in: unknown role %ls\n", role);
    return 9;
}

int wmain(int argc, wchar_t **argv) {
    wchar_t self[4096], *base;
    GetModuleFileNameW(NULL, self, 4096);
    base = wcsrchr(self, L'\\');
    base = base ? base + 1 : self;
    wchar_t role[256];
    wcsncpy(role, base, 255);
    role[255] = 0;
    wchar_t *dot = wcsrchr(role, L'.');
    if (dot) *dot = 0;
    CharLowerW(role);
    if (!wcscmp(role, L"python") && has_code(argc, argv)) log_run(L"python-c", argc, argv);
    else if (wcscmp(role, L"net")) log_run(role, argc, argv);
    const wchar_t *blocked = _wgetenv(L"STANDIN_BLOCKED");
    if (blocked && !wcscmp(blocked, role)) {
        const char *code = getenv("STANDIN_BLOCKED_CODE");
        if (code && !strcmp(code, "4551")) {
            fputs("An Application Control policy has blocked this file.\n", stderr);
            return 4551;
        }
        fputs("This program is blocked by group policy. For more information, contact your system administrator.\n", stderr);
        return 1260;
    }
    int code = role_run(role, argc, argv);
    const wchar_t *kill = _wgetenv(L"STANDIN_KILL");
    if (kill && !wcscmp(kill, role)) {
        fflush(stdout);
        return end_parent();
    }
    return code;
}
