// Pinger's raw ICMP socket with kernel receive timestamps (N-API, C). raw-socket's recv() is a plain
// recvfrom(): the only receive time it allows is one taken in JavaScript, so the agent's event-loop delay
// (GC, hundreds of TCP connects a round, CPU load) counts as network delay. Here:
//  - every socket has SO_TIMESTAMPNS on; recv() uses recvmsg() and returns the kernel's receive stamp
//    (CLOCK_REALTIME, taken when the packet entered the stack), as fping and ping do;
//  - send() takes CLOCK_REALTIME immediately before sendto(), in C, so the send stamp is in the same clock
//    with no JavaScript between it and the wire;
//  - recv() also returns CLOCK_REALTIME at the read, so the caller knows how long the reply sat in the
//    socket (its event-loop lag for that sample).
// Stamps are milliseconds (double) since a base second fixed at load: sub-microsecond resolution.
// Readiness: a libuv poll handle on the main loop calls the JS callback once per wake-up; the caller drains.
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef SO_TIMESTAMPNS
#define SO_TIMESTAMPNS 35
#endif
#ifndef SCM_TIMESTAMPNS
#define SCM_TIMESTAMPNS SO_TIMESTAMPNS
#endif

static time_t base_sec;

static double stamp_ms(const struct timespec* ts) {
  return (double)(ts->tv_sec - base_sec) * 1e3 + (double)ts->tv_nsec / 1e6;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return stamp_ms(&ts);
}

typedef struct {
  int fd;
  int family;
  int closed;
  uv_poll_t* poll; // NULL until start(); freed in its close callback
  napi_env env;
  napi_ref cb;
  napi_async_context ctx;
} Sock;

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, "PINGER_ERR_ICMP_NATIVE", #call " failed"); \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

static const char* errno_code(int e) {
  switch (e) {
    case EMSGSIZE: return "EMSGSIZE";
    case ENETUNREACH: return "ENETUNREACH";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case EAGAIN: return "EAGAIN";
    case ENOBUFS: return "ENOBUFS";
    case EINVAL: return "EINVAL";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EBADF: return "EBADF";
    default: return "EIO";
  }
}

/** Throws an Error whose message is strerror (as raw-socket's) and whose code is the errno name. */
static napi_value throw_errno(napi_env env, int e) {
  napi_value msg, code, err;
  napi_create_string_utf8(env, strerror(e), NAPI_AUTO_LENGTH, &msg);
  napi_create_string_utf8(env, errno_code(e), NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, msg, &err);
  napi_throw(env, err);
  return NULL;
}

static void on_poll_closed(uv_handle_t* h) { free(h); }

static void stop_and_close(Sock* s) {
  if (s->poll) {
    uv_poll_stop(s->poll);
    uv_close((uv_handle_t*)s->poll, on_poll_closed);
    s->poll = NULL;
  }
  if (!s->closed) {
    close(s->fd);
    s->closed = 1;
  }
}

static void finalize(napi_env env, void* data, void* hint) {
  (void)hint;
  Sock* s = (Sock*)data;
  stop_and_close(s);
  if (s->cb) napi_delete_reference(env, s->cb);
  if (s->ctx) napi_async_destroy(env, s->ctx);
  free(s);
}

static Sock* get_sock(napi_env env, napi_value v) {
  void* p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || !p) {
    napi_throw_type_error(env, "PINGER_ERR_ICMP_NATIVE", "not a socket handle");
    return NULL;
  }
  return (Sock*)p;
}

// open(family 4|6, protocol) -> handle
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t family = 0, proto = 0;
  CHECK(napi_get_value_int32(env, argv[0], &family));
  CHECK(napi_get_value_int32(env, argv[1], &proto));
  int fd = socket(family == 6 ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
  if (fd < 0) return throw_errno(env, errno);
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, e);
  }
  Sock* s = (Sock*)calloc(1, sizeof(Sock));
  s->fd = fd;
  s->family = family == 6 ? 6 : 4;
  s->env = env;
  napi_value ext;
  CHECK(napi_create_external(env, s, finalize, NULL, &ext));
  return ext;
}

// setOption(handle, level, name, value: number | Buffer)
static napi_value js_set_option(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Sock* s = get_sock(env, argv[0]);
  if (!s) return NULL;
  int32_t level, name;
  CHECK(napi_get_value_int32(env, argv[1], &level));
  CHECK(napi_get_value_int32(env, argv[2], &name));
  bool isbuf = false;
  napi_is_buffer(env, argv[3], &isbuf);
  int rc;
  if (isbuf) {
    void* data;
    size_t len;
    CHECK(napi_get_buffer_info(env, argv[3], &data, &len));
    rc = setsockopt(s->fd, level, name, data, (socklen_t)len);
  } else {
    uint32_t v;
    CHECK(napi_get_value_uint32(env, argv[3], &v));
    int iv = (int)v;
    rc = setsockopt(s->fd, level, name, &iv, sizeof iv);
  }
  if (rc < 0) return throw_errno(env, errno);
  return NULL;
}

static int parse_addr(int family, const char* text, struct sockaddr_storage* ss, socklen_t* len) {
  memset(ss, 0, sizeof *ss);
  if (family == 6) {
    struct sockaddr_in6* a = (struct sockaddr_in6*)ss;
    a->sin6_family = AF_INET6;
    char buf[64];
    strncpy(buf, text, sizeof buf - 1);
    buf[sizeof buf - 1] = 0;
    char* pct = strchr(buf, '%');
    if (pct) {
      *pct = 0;
      char* end;
      unsigned long n = strtoul(pct + 1, &end, 10);
      a->sin6_scope_id = *end == 0 && end != pct + 1 ? (uint32_t)n : if_nametoindex(pct + 1);
    }
    if (inet_pton(AF_INET6, buf, &a->sin6_addr) != 1) return -1;
    *len = sizeof *a;
    return 0;
  }
  struct sockaddr_in* a = (struct sockaddr_in*)ss;
  a->sin_family = AF_INET;
  if (inet_pton(AF_INET, text, &a->sin_addr) != 1) return -1;
  *len = sizeof *a;
  return 0;
}

// send(handle, buf, offset, length, address) -> send stamp (ms); throws with the errno's code
static napi_value js_send(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Sock* s = get_sock(env, argv[0]);
  if (!s) return NULL;
  if (s->closed) return throw_errno(env, EBADF);
  void* data;
  size_t blen;
  CHECK(napi_get_buffer_info(env, argv[1], &data, &blen));
  uint32_t off, len;
  CHECK(napi_get_value_uint32(env, argv[2], &off));
  CHECK(napi_get_value_uint32(env, argv[3], &len));
  if ((size_t)off + len > blen) {
    napi_throw_range_error(env, "PINGER_ERR_ICMP_NATIVE", "offset + length beyond the buffer");
    return NULL;
  }
  char addr[80];
  size_t alen;
  CHECK(napi_get_value_string_utf8(env, argv[4], addr, sizeof addr, &alen));
  struct sockaddr_storage ss;
  socklen_t sl;
  if (parse_addr(s->family, addr, &ss, &sl) < 0) return throw_errno(env, EINVAL);
  double at = now_ms();
  ssize_t rc = sendto(s->fd, (char*)data + off, len, 0, (struct sockaddr*)&ss, sl);
  if (rc < 0) return throw_errno(env, errno);
  napi_value out;
  CHECK(napi_create_double(env, at, &out));
  return out;
}

// recv(handle, buf, out: Float64Array(3)) -> source address text, or null when nothing is queued.
// out[0] = bytes, out[1] = kernel receive stamp (ms; NaN when the kernel gave none), out[2] = read time (ms).
static napi_value js_recv(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Sock* s = get_sock(env, argv[0]);
  if (!s) return NULL;
  if (s->closed) return throw_errno(env, EBADF);
  void* data;
  size_t blen;
  CHECK(napi_get_buffer_info(env, argv[1], &data, &blen));
  napi_typedarray_type tt;
  size_t olen;
  void* odata;
  CHECK(napi_get_typedarray_info(env, argv[2], &tt, &olen, &odata, NULL, NULL));
  if (tt != napi_float64_array || olen < 3) {
    napi_throw_type_error(env, "PINGER_ERR_ICMP_NATIVE", "out must be a Float64Array of 3");
    return NULL;
  }
  double* o = (double*)odata;
  struct sockaddr_storage from;
  struct iovec iov = {data, blen};
  union {
    char buf[CMSG_SPACE(sizeof(struct timespec)) * 2];
    struct cmsghdr align;
  } ctl;
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_name = &from;
  msg.msg_namelen = sizeof from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl.buf;
  msg.msg_controllen = sizeof ctl.buf;
  ssize_t rc = recvmsg(s->fd, &msg, 0);
  double readAt = now_ms();
  napi_value nul;
  napi_get_null(env, &nul);
  if (rc < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return nul;
    return throw_errno(env, errno);
  }
  double rx = NAN;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS && c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
      struct timespec ts;
      memcpy(&ts, CMSG_DATA(c), sizeof ts);
      rx = stamp_ms(&ts);
    }
  }
  o[0] = (double)rc;
  o[1] = rx;
  o[2] = readAt;
  char text[INET6_ADDRSTRLEN];
  const char* t = NULL;
  if (from.ss_family == AF_INET6) t = inet_ntop(AF_INET6, &((struct sockaddr_in6*)&from)->sin6_addr, text, sizeof text);
  else if (from.ss_family == AF_INET) t = inet_ntop(AF_INET, &((struct sockaddr_in*)&from)->sin_addr, text, sizeof text);
  napi_value src;
  CHECK(napi_create_string_utf8(env, t ? t : "", NAPI_AUTO_LENGTH, &src));
  return src;
}

static void on_poll(uv_poll_t* h, int status, int events) {
  (void)events;
  Sock* s = (Sock*)h->data;
  if (!s || !s->cb) return;
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, global, arg, res;
  napi_get_reference_value(env, s->cb, &cb);
  napi_get_global(env, &global);
  if (status < 0) {
    napi_value msg, code;
    napi_create_string_utf8(env, uv_strerror(status), NAPI_AUTO_LENGTH, &msg);
    napi_create_string_utf8(env, uv_err_name(status), NAPI_AUTO_LENGTH, &code);
    napi_create_error(env, code, msg, &arg);
  } else {
    napi_get_undefined(env, &arg);
  }
  // make_callback runs the microtasks queued by the callback, as any I/O callback from Node would.
  if (napi_make_callback(env, s->ctx, global, cb, 1, &arg, &res) == napi_pending_exception) {
    napi_value ex;
    napi_get_and_clear_last_exception(env, &ex);
    napi_fatal_exception(env, ex);
  }
  napi_close_handle_scope(env, scope);
}

// start(handle, callback(err?)): polls the socket for readability on the main loop.
static napi_value js_start(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Sock* s = get_sock(env, argv[0]);
  if (!s) return NULL;
  if (s->closed || s->poll) return NULL;
  uv_loop_t* loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  CHECK(napi_create_reference(env, argv[1], 1, &s->cb));
  napi_value name;
  napi_create_string_utf8(env, "PingerIcmpSocket", NAPI_AUTO_LENGTH, &name);
  CHECK(napi_async_init(env, NULL, name, &s->ctx));
  s->poll = (uv_poll_t*)calloc(1, sizeof(uv_poll_t));
  s->poll->data = s;
  int rc = uv_poll_init_socket(loop, s->poll, s->fd);
  if (rc == 0) rc = uv_poll_start(s->poll, UV_READABLE, on_poll);
  if (rc != 0) {
    free(s->poll);
    s->poll = NULL;
    napi_throw_error(env, uv_err_name(rc), uv_strerror(rc));
  }
  return NULL;
}

// close(handle): stops polling and closes the socket (idempotent).
static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Sock* s = get_sock(env, argv[0]);
  if (!s) return NULL;
  if (s->poll) s->poll->data = NULL;
  stop_and_close(s);
  // The callback (and through it the JS wrapper) was held strongly while polling; let both be collected now.
  if (s->cb) {
    napi_delete_reference(env, s->cb);
    s->cb = NULL;
  }
  return NULL;
}

// now(): CLOCK_REALTIME in the stamps' unit, for tests and to relate stamps to the present.
static napi_value js_now(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  CHECK(napi_create_double(env, now_ms(), &out));
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  base_sec = ts.tv_sec;
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"setOption", NULL, js_set_option, NULL, NULL, NULL, napi_default, NULL},
      {"send", NULL, js_send, NULL, NULL, NULL, napi_default, NULL},
      {"recv", NULL, js_recv, NULL, NULL, NULL, napi_default, NULL},
      {"start", NULL, js_start, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
      {"now", NULL, js_now, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
