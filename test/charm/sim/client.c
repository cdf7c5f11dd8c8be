/* A simulated hook tool, as client.pl but ~1 ms a call instead of ~20 ms of Perl start (a 20-unit run makes
 * ~20,000 tool calls): forwards argv (and stdin for `--file -`) to the simulator's socket and prints what it
 * answers, with its exit code. Compiled per run by sim.ts with `cc`; client.pl is the fallback.
 * Request: NUL-joined tool, context, stdin, args. Answer: "<code> <stdout bytes>\n" stdout stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct buf { char *p; size_t n, cap; };

static void put(struct buf *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    b->cap = (b->n + n + 1) * 2;
    b->p = realloc(b->p, b->cap);
    if (!b->p) { fputs("ERROR out of memory\n", stderr); exit(1); }
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
}

static void slurp(int fd, struct buf *b) {
  char tmp[65536];
  ssize_t r;
  while ((r = read(fd, tmp, sizeof tmp)) > 0) put(b, tmp, (size_t)r);
}

static void write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w <= 0) { fputs("ERROR write failed\n", stderr); exit(1); }
    p += w;
    n -= (size_t)w;
  }
}

int main(int argc, char **argv) {
  const char *tool = getenv("PINGER_SIM_TOOL");
  if (!tool) { tool = strrchr(argv[0], '/'); tool = tool ? tool + 1 : argv[0]; }
  const char *ctx = getenv("PINGER_SIM_CONTEXT");
  const char *sock = getenv("PINGER_SIM_SOCKET");
  struct buf in = {0}, req = {0}, ans = {0};
  if (!strcmp(tool, "relation-set") || !strcmp(tool, "state-set"))
    for (int i = 1; i < argc; i++) if (!strcmp(argv[i], "-")) { slurp(0, &in); break; }
  put(&req, tool, strlen(tool));
  put(&req, "", 1);
  put(&req, ctx ? ctx : "", ctx ? strlen(ctx) : 0);
  put(&req, "", 1);
  put(&req, in.p ? in.p : "", in.n);
  for (int i = 1; i < argc; i++) { put(&req, "", 1); put(&req, argv[i], strlen(argv[i])); }
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  if (s < 0 || !sock || strlen(sock) >= sizeof a.sun_path) { fputs("ERROR cannot reach the hook-tool simulator\n", stderr); return 1; }
  strcpy(a.sun_path, sock);
  if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) { perror("ERROR cannot reach the hook-tool simulator"); return 1; }
  write_all(s, req.p, req.n);
  shutdown(s, SHUT_WR);
  slurp(s, &ans);
  put(&ans, "", 1);
  int code;
  size_t n, head;
  char *nl = memchr(ans.p, '\n', ans.n);
  if (!nl || sscanf(ans.p, "%d %zu", &code, &n) != 2 || (head = (size_t)(nl - ans.p) + 1) + n > ans.n - 1) {
    fputs("ERROR bad answer from the simulator\n", stderr);
    return 1;
  }
  write_all(1, ans.p + head, n);
  write_all(2, ans.p + head + n, ans.n - 1 - head - n);
  return code;
}
