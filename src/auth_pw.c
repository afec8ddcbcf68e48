/*
 * auth_pw.c - hash and check staff passwords (Argon2id via libsodium).
 */
#include "config.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "auth_pw.h"
#include <unistr.h>

/*
 * At most this many hashes at a time: each holds AUTH_PW_MEMLIMIT (64 MiB)
 * for about a tenth of a second; more logins wait their turn rather than
 * run the machine out of memory.
 */
#define AUTH_PW_CONCURRENT 2
#define AUTH_PW_WAIT 10

static pthread_mutex_t auth_pw_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t auth_pw_cond = PTHREAD_COND_INITIALIZER;
static int auth_pw_running;
static pthread_once_t auth_pw_dummy_once = PTHREAD_ONCE_INIT;
static char auth_pw_dummy[AUTH_PW_STRBYTES];
static int auth_pw_dummy_ok;

/*
 * auth_pw_enter - a turn at hashing, or -1 after AUTH_PW_WAIT seconds: a
 * queue of logins that never ends would hold every connection thread.
 */
static int
auth_pw_enter(void)
{
	struct timespec until;
	int r = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += AUTH_PW_WAIT;
	pthread_mutex_lock(&auth_pw_lock);
	while (auth_pw_running >= AUTH_PW_CONCURRENT && r == 0)
		r = pthread_cond_timedwait(&auth_pw_cond, &auth_pw_lock, &until);
	if (auth_pw_running < AUTH_PW_CONCURRENT) {
		auth_pw_running++;
		r = 0;
	} else {
		r = -1;
	}
	pthread_mutex_unlock(&auth_pw_lock);
	return r;
}

static void
auth_pw_leave(void)
{
	pthread_mutex_lock(&auth_pw_lock);
	auth_pw_running--;
	pthread_cond_signal(&auth_pw_cond);
	pthread_mutex_unlock(&auth_pw_lock);
}

int
auth_pw_check(const char *pw, const char *name, int min_chars, const char **why)
{
	size_t n = strlen(pw), chars = 0;

	if (n > AUTH_PW_MAXBYTES) {
		*why = "the password is longer than 256 bytes";
		return -1;
	}
	if (u8_check((const uint8_t *)pw, n) != NULL) {
		*why = "the password is not valid UTF-8";
		return -1;
	}
	for (size_t i = 0; i < n; i++) /* code points, not bytes: 日本語 counts 3 */
		if (((unsigned char)pw[i] & 0xc0) != 0x80)
			chars++;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)pw[i] < 0x20 || pw[i] == 0x7f) {
			*why = "the password has a control character";
			return -1;
		}
	if (chars < (size_t)min_chars) {
		*why = "the password is too short";
		return -1;
	}
	if (name != NULL && strcmp(pw, name) == 0) {
		*why = "the password is the user name";
		return -1;
	}
	return 0;
}

int
auth_pw_hash(const char *pw, char out[AUTH_PW_STRBYTES])
{
	int r;

	if (auth_pw_enter() != 0)
		return -1;
	r = crypto_pwhash_str(out, pw, strlen(pw), AUTH_PW_OPSLIMIT, AUTH_PW_MEMLIMIT);
	auth_pw_leave();
	return r == 0 ? 0 : -1;
}

static void
auth_pw_dummy_make(void)
{
	/* Any password will do: it only has to cost what a real check costs. */
	auth_pw_dummy_ok = crypto_pwhash_str(auth_pw_dummy, "okuru dummy password", 20,
					     AUTH_PW_OPSLIMIT, AUTH_PW_MEMLIMIT) == 0;
}

int
auth_pw_verify(const char *stored, const char *pw, int *rehash)
{
	size_t n = strlen(pw);
	int r = 0;

	*rehash = 0;
	if (auth_pw_enter() != 0)
		return -1; /* busy: the caller answers 503, nothing was checked */
	/* No password set, or one longer than any we accept: cost a real check, never match. */
	if (stored[0] == '\0' || n > AUTH_PW_MAXBYTES) {
		if (n > AUTH_PW_MAXBYTES)
			n = AUTH_PW_MAXBYTES;
		pthread_once(&auth_pw_dummy_once, auth_pw_dummy_make);
		/* Its answer does not matter: only its cost does. */
		if (auth_pw_dummy_ok && crypto_pwhash_str_verify(auth_pw_dummy, pw, n) == 0)
			r = 0;
		auth_pw_leave();
		return auth_pw_dummy_ok ? 0 : -1;
	}
	r = crypto_pwhash_str_verify(stored, pw, n);
	auth_pw_leave();
	if (r != 0)
		return 0;
	*rehash = crypto_pwhash_str_needs_rehash(stored, AUTH_PW_OPSLIMIT, AUTH_PW_MEMLIMIT) != 0;
	return 1;
}
