// Start a step's process with posix_spawn, and reap it without blocking.
//
// Why not child_process.spawn: libuv (1.46, Node 20) starts a process with fork(), which copies the
// page tables of the whole Node process and blocks the event loop until the child has exec'd: ~1 ms
// from a small process and more as the process grows. glibc's posix_spawn uses vfork semantics
// (CLONE_VM | CLONE_VFORK): nothing is copied, and the call returns in ~0.2 ms, with exec errors
// (ENOENT, EACCES, a missing working directory) reported as its result. That is what make does.
//
//   spawn(file, argv, envp, cwd)       -> [pid, stdoutFd, stderrFd], or [-errno] when it cannot start
//   spawn(file, argv, envp, cwd, true) -> [pid, stdoutFd, stderrFd, stdinFd]: stdin on a pipe too
//   reap(pid)                          -> null while it runs, else [exitCode, signal] (-1 / 0 when n/a)
//
// The child gets stdin from /dev/null (or, when asked, a pipe whose writing end is returned: the
// watchdog of src/process/watchdog.ts is told things that way), stdout and stderr on two new pipes whose
// reading ends are returned, its own session (so its whole process tree can be signalled as a group), every signal at
// its default action and none blocked — as libuv does for child_process.spawn({ detached: true }).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

// A JS string as a new C string; NULL (with a pending exception) when it is not a string.
static char* c_string(napi_env env, napi_value value) {
  size_t length;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) {
    napi_throw_type_error(env, NULL, "spawn: expected a string");
    return NULL;
  }
  char* text = malloc(length + 1);
  if (text != NULL) napi_get_value_string_utf8(env, value, text, length + 1, &length);
  return text;
}

static void free_strings(char** list) {
  if (list == NULL) return;
  for (char** p = list; *p != NULL; p++) free(*p);
  free(list);
}

// A JS array of strings as a NULL-terminated C array; NULL (with a pending exception) on failure.
static char** c_strings(napi_env env, napi_value array) {
  uint32_t count;
  if (napi_get_array_length(env, array, &count) != napi_ok) {
    napi_throw_type_error(env, NULL, "spawn: expected an array of strings");
    return NULL;
  }
  char** list = calloc(count + 1, sizeof(char*));
  if (list == NULL) return NULL;
  for (uint32_t i = 0; i < count; i++) {
    napi_value item;
    napi_get_element(env, array, i, &item);
    if ((list[i] = c_string(env, item)) == NULL) {
      free_strings(list);
      return NULL;
    }
  }
  return list;
}

// A pipe whose ends close on exec (the child gets its own copies through dup2).
static int cloexec_pipe(int fds[2]) {
#ifdef __linux__
  return pipe2(fds, O_CLOEXEC);
#else
  if (pipe(fds) != 0) return -1;
  fcntl(fds[0], F_SETFD, FD_CLOEXEC);
  fcntl(fds[1], F_SETFD, FD_CLOEXEC);
  return 0;
#endif
}

static napi_value int_array(napi_env env, const int* values, size_t count) {
  napi_value array, item;
  napi_create_array_with_length(env, count, &array);
  for (size_t i = 0; i < count; i++) {
    napi_create_int32(env, values[i], &item);
    napi_set_element(env, array, (uint32_t)i, item);
  }
  return array;
}

static napi_value Spawn(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value args[5];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  bool with_stdin = false;
  if (argc < 4 || argc > 5 || (argc == 5 && napi_get_value_bool(env, args[4], &with_stdin) != napi_ok)) {
    napi_throw_type_error(env, NULL, "spawn(file, argv, envp, cwd[, stdinPipe])");
    return NULL;
  }
  char* file = c_string(env, args[0]);
  char** argv = file ? c_strings(env, args[1]) : NULL;
  char** envp = argv ? c_strings(env, args[2]) : NULL;
  char* cwd = envp ? c_string(env, args[3]) : NULL;
  napi_value result = NULL;
  if (cwd == NULL) goto done;

  int out[2] = {-1, -1}, err[2] = {-1, -1}, in[2] = {-1, -1};
  if (cloexec_pipe(out) != 0 || cloexec_pipe(err) != 0 || (with_stdin && cloexec_pipe(in) != 0)) {
    int code = -errno;
    if (out[0] >= 0) close(out[0]), close(out[1]);
    if (err[0] >= 0) close(err[0]), close(err[1]);
    result = int_array(env, &code, 1);
    goto done;
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (with_stdin) posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  else posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  posix_spawn_file_actions_addchdir_np(&actions, cwd);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t all, none;
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all); // Node ignores SIGPIPE: the child must not inherit that
  posix_spawnattr_setsigmask(&attr, &none);
  short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
#ifdef POSIX_SPAWN_SETSID
  flags |= POSIX_SPAWN_SETSID;
#else
  flags |= POSIX_SPAWN_SETPGROUP; // process group 0: its own
#endif
  posix_spawnattr_setflags(&attr, flags);

  pid_t pid;
  int rc = posix_spawn(&pid, file, &actions, &attr, argv, envp);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(out[1]);
  close(err[1]);
  if (with_stdin) close(in[0]);
  if (rc != 0) {
    close(out[0]);
    close(err[0]);
    if (with_stdin) close(in[1]);
    int code = -rc;
    result = int_array(env, &code, 1);
  } else {
    int started[4] = {pid, out[0], err[0], in[1]};
    result = int_array(env, started, with_stdin ? 4 : 3);
  }

done:
  free(file);
  free_strings(argv);
  free_strings(envp);
  free(cwd);
  return result;
}

static napi_value Reap(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg, result;
  int32_t pid;
  napi_get_cb_info(env, info, &argc, &arg, NULL, NULL);
  if (argc != 1 || napi_get_value_int32(env, arg, &pid) != napi_ok || pid <= 0) {
    napi_throw_type_error(env, NULL, "reap(pid)");
    return NULL;
  }
  int status;
  pid_t got;
  do got = waitpid(pid, &status, WNOHANG);
  while (got < 0 && errno == EINTR);
  if (got == 0) {
    napi_get_null(env, &result);
    return result;
  }
  if (got < 0) {
    int code = -errno;
    return int_array(env, &code, 1);
  }
  int ended[2] = {WIFEXITED(status) ? WEXITSTATUS(status) : -1, WIFSIGNALED(status) ? WTERMSIG(status) : 0};
  return int_array(env, ended, 2);
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "spawn", NAPI_AUTO_LENGTH, Spawn, NULL, &fn);
  napi_set_named_property(env, exports, "spawn", fn);
  napi_create_function(env, "reap", NAPI_AUTO_LENGTH, Reap, NULL, &fn);
  napi_set_named_property(env, exports, "reap", fn);
  return exports;
}
