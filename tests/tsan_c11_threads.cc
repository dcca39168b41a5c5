// Linked into test executables of the ThreadSanitizer build that run librdkafka (BECKON_TSAN).
//
// librdkafka starts its threads with C11 thrd_create and locks with mtx_*/cnd_*. glibc 2.36
// implements those on its internal pthread entry points, which clang-14's ThreadSanitizer does not
// intercept: the first allocation on such a thread crashed in TSan's allocator, and the locks were
// invisible to it. Defined in the executable (which exports them, librdkafka referring to them),
// these take precedence over glibc's and forward to the pthread functions TSan intercepts;
// glibc's C11 types are the pthread ones in other clothes (asserted below). What librdkafka
// then does with its own memory is still uninstrumented: tests/tsan.supp leaves it out.
#include <pthread.h>
#include <threads.h>

#include <cerrno>
#include <cstdint>
#include <ctime>

static_assert(sizeof(mtx_t) == sizeof(pthread_mutex_t));
static_assert(sizeof(cnd_t) == sizeof(pthread_cond_t));
static_assert(sizeof(thrd_t) == sizeof(pthread_t));

namespace {
int to_c11(int rc) {
  switch (rc) {
    case 0: return thrd_success;
    case ETIMEDOUT: return thrd_timedout;
    case EBUSY: return thrd_busy;
    case ENOMEM: return thrd_nomem;
    default: return thrd_error;
  }
}
struct Start {
  thrd_start_t func;
  void* arg;
};
void* run(void* p) {
  const Start s = *static_cast<Start*>(p);
  delete static_cast<Start*>(p);
  return reinterpret_cast<void*>(static_cast<intptr_t>(s.func(s.arg)));
}
pthread_mutex_t* pm(mtx_t* m) { return reinterpret_cast<pthread_mutex_t*>(m); }
pthread_cond_t* pc(cnd_t* c) { return reinterpret_cast<pthread_cond_t*>(c); }
}  // namespace

extern "C" {
int thrd_create(thrd_t* thr, thrd_start_t func, void* arg) {
  auto* s = new Start{func, arg};
  const int rc = pthread_create(thr, nullptr, run, s);
  if (rc != 0) delete s;
  return to_c11(rc);
}
int thrd_join(thrd_t thr, int* res) {
  void* out = nullptr;
  const int rc = pthread_join(thr, &out);
  if (rc == 0 && res != nullptr) *res = static_cast<int>(reinterpret_cast<intptr_t>(out));
  return to_c11(rc);
}
int thrd_detach(thrd_t thr) { return to_c11(pthread_detach(thr)); }

int mtx_init(mtx_t* m, int type) {
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  if (type & mtx_recursive) pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
  const int rc = pthread_mutex_init(pm(m), &a);
  pthread_mutexattr_destroy(&a);
  return to_c11(rc);
}
int mtx_lock(mtx_t* m) { return to_c11(pthread_mutex_lock(pm(m))); }
int mtx_trylock(mtx_t* m) { return to_c11(pthread_mutex_trylock(pm(m))); }
int mtx_timedlock(mtx_t* m, const struct timespec* ts) { return to_c11(pthread_mutex_timedlock(pm(m), ts)); }
int mtx_unlock(mtx_t* m) { return to_c11(pthread_mutex_unlock(pm(m))); }
void mtx_destroy(mtx_t* m) { pthread_mutex_destroy(pm(m)); }

int cnd_init(cnd_t* c) { return to_c11(pthread_cond_init(pc(c), nullptr)); }
int cnd_signal(cnd_t* c) { return to_c11(pthread_cond_signal(pc(c))); }
int cnd_broadcast(cnd_t* c) { return to_c11(pthread_cond_broadcast(pc(c))); }
int cnd_wait(cnd_t* c, mtx_t* m) { return to_c11(pthread_cond_wait(pc(c), pm(m))); }
int cnd_timedwait(cnd_t* c, mtx_t* m, const struct timespec* ts) {
  return to_c11(pthread_cond_timedwait(pc(c), pm(m), ts));
}
void cnd_destroy(cnd_t* c) { pthread_cond_destroy(pc(c)); }

void call_once(once_flag* flag, void (*func)(void)) {
  static_assert(sizeof(once_flag) == sizeof(pthread_once_t));
  pthread_once(reinterpret_cast<pthread_once_t*>(flag), func);
}
}
