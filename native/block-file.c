/*
 * A block file written whole in one trip to libuv's thread pool: open a
 * temporary file beside it, write, close, rename over. Node's fs makes each of
 * those its own trip (four per block, with a wake-up of a pool thread and a
 * callback on the event loop each); a cold install writes ~900 blocks.
 *
 * write(temporary, file, bytes) returns a promise: resolved once `file` holds
 * `bytes`, rejected with an Error whose `code` is the errno's name (ENOSPC,
 * EACCES, ...) and which leaves no temporary file. A missing directory of
 * `file` (a shard not made yet) is made, with its parents. `bytes` must not
 * change until the promise settles; the addon holds a reference to it.
 */
#define NAPI_VERSION 8
#define _GNU_SOURCE
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref bytes_ref;
  char *temporary;
  char *file;
  const char *bytes;
  size_t length;
  int error;
} job;

/* mkdir -p of the directory `path` is in */
static int make_parents(const char *path) {
  char *dir = strdup(path);
  if (dir == NULL) return ENOMEM;
  int error = 0;
  for (char *slash = strchr(dir + 1, '/'); slash != NULL && error == 0; slash = strchr(slash + 1, '/')) {
    *slash = '\0';
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) error = errno;
    *slash = '/';
  }
  free(dir);
  return error;
}

static int open_temporary(const char *temporary) {
  /* as Node's writeFile opens it: a temporary file a stopped process left is overwritten */
  return open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

static void write_on_pool(napi_env env, void *data) {
  job *j = data;
  int fd = open_temporary(j->temporary);
  if (fd < 0 && errno == ENOENT) {
    j->error = make_parents(j->file);
    if (j->error != 0) return;
    fd = open_temporary(j->temporary);
  }
  if (fd < 0) {
    j->error = errno;
    return;
  }
  size_t written = 0;
  while (written < j->length) {
    ssize_t n = write(fd, j->bytes + written, j->length - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      j->error = errno;
      break;
    }
    written += (size_t)n;
  }
  if (close(fd) != 0 && j->error == 0 && errno != EINTR) j->error = errno;
  if (j->error == 0 && rename(j->temporary, j->file) != 0) j->error = errno;
  if (j->error != 0) unlink(j->temporary);
}

static void settle(napi_env env, napi_status status, void *data) {
  job *j = data;
  if (status == napi_ok && j->error == 0) {
    napi_value undefined;
    napi_get_undefined(env, &undefined);
    napi_resolve_deferred(env, j->deferred, undefined);
  } else {
    int error = j->error != 0 ? j->error : ECANCELED;
    const char *error_name = strerrorname_np(error) != NULL ? strerrorname_np(error) : "EIO";
    /* as Node's fs words it: "ENOSPC: no space left on device, write '<file>'" */
    char text[4096 + 128];
    snprintf(text, sizeof text, "%s: %s, write '%s'", error_name, strerror(error), j->file);
    napi_value code, message, err;
    napi_create_string_utf8(env, error_name, NAPI_AUTO_LENGTH, &code);
    napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, code, message, &err);
    napi_set_named_property(env, err, "code", code);
    napi_reject_deferred(env, j->deferred, err);
  }
  napi_delete_reference(env, j->bytes_ref);
  napi_delete_async_work(env, j->work);
  free(j->temporary);
  free(j->file);
  free(j);
}

static char *string_of(napi_env env, napi_value value) {
  size_t length;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) return NULL;
  char *s = malloc(length + 1);
  if (s != NULL) napi_get_value_string_utf8(env, value, s, length + 1, &length);
  return s;
}

static napi_value write_block(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], promise, name;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  bool is_typed_array = false;
  napi_typedarray_type type = napi_int8_array;
  void *bytes = NULL;
  size_t length = 0;
  if (argc == 3) napi_is_typedarray(env, argv[2], &is_typed_array);
  if (is_typed_array) napi_get_typedarray_info(env, argv[2], &type, &length, &bytes, NULL, NULL);
  job *j = calloc(1, sizeof(job));
  if (j != NULL) {
    j->temporary = argc == 3 ? string_of(env, argv[0]) : NULL;
    j->file = argc == 3 ? string_of(env, argv[1]) : NULL;
  }
  if (j == NULL || j->temporary == NULL || j->file == NULL || !is_typed_array || type != napi_uint8_array) {
    if (j != NULL) {
      free(j->temporary);
      free(j->file);
      free(j);
    }
    napi_throw_type_error(env, NULL, "write(temporary: string, file: string, bytes: Uint8Array)");
    return NULL;
  }
  j->bytes = bytes;
  j->length = length;
  napi_create_reference(env, argv[2], 1, &j->bytes_ref);
  napi_create_promise(env, &j->deferred, &promise);
  napi_create_string_utf8(env, "dpm:write-block", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, write_on_pool, settle, j, &j->work);
  napi_queue_async_work(env, j->work);
  return promise;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "write", NAPI_AUTO_LENGTH, write_block, NULL, &fn);
  napi_set_named_property(env, exports, "write", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
