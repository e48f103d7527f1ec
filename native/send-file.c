/*
 * Cache hits handed to the kernel: sendfile(2) from a block file to the
 * client's socket, the way nginx serves a static file. Node's HTTP server can
 * only copy each byte from the page cache into memory and from memory into the
 * socket; sendfile does neither copy.
 *
 * send(socketFd, fileFd, offset, length, done(errno, sent)) returns a handle for
 * cancel(handle). It runs on the event loop, never blocking it: the socket is
 * non-blocking, and when it is full a libuv poll on a duplicate of its
 * descriptor (libuv's own handle owns the original) waits until it takes more.
 * A transfer the socket takes at once (the usual case for a 1 MiB block on a
 * fast client) makes no poll and no duplicate: one sendfile, then done.
 * The caller writes nothing else to the socket meanwhile. done is called once:
 * errno 0 when all `length` bytes went, EIO when the file ended early,
 * ECANCELED after cancel, else the error sendfile met (EPIPE: the client left).
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <unistd.h>

/* sendfile moves at most this much per call */
#define MAX_CHUNK (1 << 30)

typedef struct {
  uv_poll_t poll;
  /* the caller's descriptor; `watched`: its duplicate under the poll, -1 until the socket is first full */
  int socket;
  int watched;
  int file;
  off_t offset;
  int64_t remaining;
  int64_t sent;
  int done;
  /* the JavaScript handle and the libuv handle: freed when both are gone */
  int refs;
  napi_env env;
  napi_ref callback;
  napi_async_context context;
} transfer;

static void release(transfer *t) {
  if (--t->refs == 0) free(t);
}

static void on_closed(uv_handle_t *handle) {
  transfer *t = handle->data;
  close(t->watched);
  release(t);
}

static void finish(transfer *t, int error) {
  if (t->done) return;
  t->done = 1;
  int polled = t->watched >= 0;
  if (polled) uv_close((uv_handle_t *)&t->poll, on_closed);

  napi_env env = t->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value callback, global, args[2];
  napi_get_reference_value(env, t->callback, &callback);
  napi_get_global(env, &global);
  napi_create_int32(env, error, &args[0]);
  napi_create_int64(env, t->sent, &args[1]);
  napi_delete_reference(env, t->callback);
  napi_make_callback(env, t->context, global, callback, 2, args, NULL);
  napi_async_destroy(env, t->context);
  napi_close_handle_scope(env, scope);
  /* last: with no poll, this may be the last use of t */
  if (!polled) release(t);
}

static void on_writable(uv_poll_t *handle, int status, int events);

/* the socket is full: wait on a duplicate of its descriptor until it takes more */
static int watch(transfer *t) {
  uv_loop_t *loop;
  napi_get_uv_event_loop(t->env, &loop);
  int watched = dup(t->socket);
  if (watched < 0) return errno;
  int status = uv_poll_init(loop, &t->poll, watched);
  if (status != 0) {
    close(watched);
    return -status;
  }
  t->watched = watched;
  t->poll.data = t;
  status = uv_poll_start(&t->poll, UV_WRITABLE, on_writable);
  return status == 0 ? 0 : -status;
}

static void pump(transfer *t) {
  while (t->remaining > 0) {
    size_t chunk = t->remaining > MAX_CHUNK ? MAX_CHUNK : (size_t)t->remaining;
    /* once watched, the duplicate: Node may have closed its own descriptor, and its number be reused */
    ssize_t n = sendfile(t->watched >= 0 ? t->watched : t->socket, t->file, &t->offset, chunk);
    if (n > 0) {
      t->remaining -= n;
      t->sent += n;
    } else if (n == 0) {
      finish(t, EIO);
      return;
    } else if (errno == EAGAIN) {
      int error = t->watched >= 0 ? 0 : watch(t);
      if (error != 0) finish(t, error);
      return;
    } else if (errno != EINTR) {
      finish(t, errno);
      return;
    }
  }
  finish(t, 0);
}

static void on_writable(uv_poll_t *handle, int status, int events) {
  (void)events;
  transfer *t = handle->data;
  if (status < 0) finish(t, -status);
  else pump(t);
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  release(data);
}

static napi_value throw_errno(napi_env env, const char *what) {
  napi_throw_error(env, NULL, what);
  return NULL;
}

static napi_value send_file(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t socket, file;
  int64_t offset, length;
  if (argc < 5
      || napi_get_value_int32(env, argv[0], &socket) != napi_ok
      || napi_get_value_int32(env, argv[1], &file) != napi_ok
      || napi_get_value_int64(env, argv[2], &offset) != napi_ok
      || napi_get_value_int64(env, argv[3], &length) != napi_ok
      || socket < 0 || file < 0 || offset < 0 || length < 0) {
    napi_throw_type_error(env, NULL, "send(socketFd, fileFd, offset, length, done)");
    return NULL;
  }
  transfer *t = calloc(1, sizeof *t);
  if (t == NULL) return throw_errno(env, "out of memory");
  t->socket = socket;
  t->watched = -1;
  t->file = file;
  t->offset = offset;
  t->remaining = length;
  t->refs = 2;
  t->env = env;
  napi_create_reference(env, argv[4], 1, &t->callback);
  napi_value resource, name;
  napi_create_object(env, &resource);
  napi_create_string_utf8(env, "dpm:sendfile", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, resource, name, &t->context);
  napi_value handle;
  napi_create_external(env, t, finalize, NULL, &handle);
  pump(t);
  return handle;
}

static napi_value cancel(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void *data;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_external(env, argv[0], &data) != napi_ok) {
    napi_throw_type_error(env, NULL, "cancel(handle)");
    return NULL;
  }
  finish(data, ECANCELED);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "send", NAPI_AUTO_LENGTH, send_file, NULL, &fn);
  napi_set_named_property(env, exports, "send", fn);
  napi_create_function(env, "cancel", NAPI_AUTO_LENGTH, cancel, NULL, &fn);
  napi_set_named_property(env, exports, "cancel", fn);
  return exports;
}
