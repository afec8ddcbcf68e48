/*
 * ctl_user.c - okuructl's administration of staff accounts:
 *   user show NAME                 role, e-mail, groups and login state
 *   user list [--json]             every account, as a table or as JSON
 *   user passwd NAME               set the password (ends the sessions)
 *   user totp-reset NAME           forget the TOTP secret (ends the sessions)
 *   user disable|enable NAME       (disable ends the sessions)
 *   user unlock NAME               end a lockout after failed logins
 *   user cert NAME DN|--clear      map a TLS client certificate's subject
 *   user end-sessions NAME         log the user out everywhere
 * user add, group and token are in okuructl.c. Every change is recorded
 * in the audit log in its own transaction (db_users.c) with okuructl's
 * actor (admin-cli and the OS user).
 *
 * passwd reads the password twice, without echo, when standard input is a
 * terminal; otherwise one line from standard input (scripts, tests). The
 * bytes are read one at a time with read(2), never through stdio, so no
 * buffer but ours holds them, and ours is wiped.
 */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "audit.h"
#include "auth_pw.h"
#include "conf.h"
#include "ctl.h"
#include "db.h"
#include "user.h"
#include "util.h"

#define CTL_PW_BUF (AUTH_PW_MAXBYTES + 2) /* one byte more than allowed, and the NUL */

static const char *const ctl_user_subs[] = {
    "show", "list", "passwd", "totp-reset", "disable", "enable", "unlock", "cert", "end-sessions",
};

int
ctl_user_admin(const char *sub)
{
	for (size_t i = 0; i < sizeof(ctl_user_subs) / sizeof(ctl_user_subs[0]); i++)
		if (strcmp(sub, ctl_user_subs[i]) == 0)
			return 1;
	return 0;
}

/* The terminal's settings while echo is off, to put back on a signal. */
static struct termios ctl_tty_saved;
static volatile sig_atomic_t ctl_tty_quiet;

/* ctl_tty_signal - a signal while echo is off: turn it back on, then die of the signal */
static void
ctl_tty_signal(int sig)
{
	if (ctl_tty_quiet)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &ctl_tty_saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * ctl_pw_line - one line from standard input into BUF (CTL_PW_BUF bytes),
 * without its newline. A line too long to be a password is read to its end
 * and cut to AUTH_PW_MAXBYTES + 1 bytes, which auth_pw_check refuses.
 * -1 when input ended before any byte or on a read error.
 */
static int
ctl_pw_line(char buf[CTL_PW_BUF])
{
	size_t n = 0;
	int any = 0;
	char ch;

	for (;;) {
		ssize_t r = read(STDIN_FILENO, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		any = 1;
		if (ch == '\n')
			break;
		if (n < CTL_PW_BUF - 1)
			buf[n++] = ch;
	}
	sodium_memzero(&ch, sizeof(ch)); /* the last byte read may be part of the password */
	buf[n] = '\0';
	return any ? 0 : -1;
}

/*
 * ctl_pw_prompt - echo off, PROMPT on stderr, then a line from the
 * terminal. Echo goes off first, discarding what was typed before
 * (TCSAFLUSH): what is typed after the prompt is never shown.
 */
static int
ctl_pw_prompt(const char *prompt, char buf[CTL_PW_BUF])
{
	struct termios quiet;
	int r;

	if (tcgetattr(STDIN_FILENO, &ctl_tty_saved) != 0)
		die("cannot read the terminal's settings: %s", strerror(errno));
	quiet = ctl_tty_saved;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	signal(SIGINT, ctl_tty_signal);
	signal(SIGTERM, ctl_tty_signal);
	signal(SIGHUP, ctl_tty_signal);
	signal(SIGQUIT, ctl_tty_signal);
	ctl_tty_quiet = 1;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0)
		die("cannot turn off the terminal's echo: %s", strerror(errno));
	fputs(prompt, stderr);
	fflush(stderr);
	r = ctl_pw_line(buf);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &ctl_tty_saved);
	ctl_tty_quiet = 0;
	return r;
}

/* ctl_pw_read - the new password for NAME: twice from a terminal, once from a pipe */
static void
ctl_pw_read(const char *name, char pw[CTL_PW_BUF])
{
	char again[CTL_PW_BUF], prompt[128];
	int same;

	if (!isatty(STDIN_FILENO)) {
		if (ctl_pw_line(pw) != 0)
			die("no password on standard input");
		return;
	}
	snprintf(prompt, sizeof(prompt), "New password for %s: ", name);
	if (ctl_pw_prompt(prompt, pw) != 0)
		die("no password given");
	if (ctl_pw_prompt("Again: ", again) != 0) {
		sodium_memzero(pw, CTL_PW_BUF);
		die("no password given");
	}
	same = strlen(pw) == strlen(again) && sodium_memcmp(pw, again, strlen(pw)) == 0;
	sodium_memzero(again, sizeof(again));
	if (!same) {
		sodium_memzero(pw, CTL_PW_BUF);
		die("the two passwords differ; nothing changed");
	}
}

/* ctl_user_passwd - set NAME's password; the sessions it had are ended */
static void
ctl_user_passwd(struct db *db, const struct audit_actor *who, const char *name)
{
	char pw[CTL_PW_BUF], hash[AUTH_PW_STRBYTES];
	struct db_user_state s;
	const char *why;
	int64_t ended = 0;
	int r;

	/* Ask for nothing for a user who is not there. */
	r = db_users_get(db, name, &s);
	if (r == DB_NOTFOUND)
		die("no such user: %s", name);
	if (r != DB_OK)
		die("cannot read user %s", name);
	ctl_pw_read(name, pw);
	if (auth_pw_check(pw, name, USER_PW_MIN_CHARS, &why) != 0) {
		sodium_memzero(pw, sizeof(pw));
		die("%s (at least %d characters); nothing changed", why, USER_PW_MIN_CHARS);
	}
	r = auth_pw_hash(pw, hash);
	sodium_memzero(pw, sizeof(pw));
	if (r != 0)
		die("cannot hash the password (out of memory)");
	r = db_users_password(db, name, hash, util_now(), who, &ended);
	sodium_memzero(hash, sizeof(hash));
	if (r == DB_NOTFOUND)
		die("no such user: %s", name);
	if (r != DB_OK)
		die("cannot set the password of %s", name);
	printf("password set for %s (%lld sessions ended)\n", name, (long long)ended);
}

/* ctl_time - T as ISO 8601 UTC, or NONE for 0 */
static const char *
ctl_time(int64_t t, char out[32], const char *none)
{
	if (t == 0)
		return none;
	util_time_iso(t, out);
	return out;
}

static const char *
ctl_totp_state(const struct db_user_state *s)
{
	return s->totp_enrolled ? "enrolled" : s->totp_pending ? "pending" : "none";
}

/* ctl_user_show - one account, a line per property */
static void
ctl_user_show(const struct db_user_state *s, int64_t now)
{
	char t[32];

	printf("user %s\nrole %s\ne-mail %s\ngroups", s->name, s->role, s->email);
	for (size_t g = 0; g < s->ngroups; g++)
		printf(" %s", s->groups[g]);
	printf("%s\n", s->ngroups == 0 ? " (none)" : "");
	printf("state %s\n", s->disabled ? "disabled" : "enabled");
	if (s->has_password)
		printf("password set %s\n", ctl_time(s->pw_changed, t, "-"));
	else
		printf("password none\n");
	printf("totp %s\n", ctl_totp_state(s));
	printf("failed-logins %d\n", s->failed_logins);
	printf("locked-until %s\n",
	       s->locked_until > now ? ctl_time(s->locked_until, t, "-") : "(not locked)");
	printf("certificate %s\n", s->cert_dn[0] != '\0' ? s->cert_dn : "(none)");
	printf("sessions %lld\n", (long long)s->sessions);
	printf("created %s\n", ctl_time(s->created, t, "-"));
}

/* Every account, gathered for the table (its widths need all rows) or JSON. */
struct ctl_user_list {
	struct db_user_state *v;
	size_t n, cap;
};

static int
ctl_user_list_cb(const struct db_user_state *s, void *arg)
{
	struct ctl_user_list *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct db_user_state *v = realloc(l->v, cap * sizeof(*v));
		if (v == NULL)
			return 1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *s;
	return 0;
}

/* ctl_user_table - the accounts as aligned columns, a header first */
static void
ctl_user_table(const struct ctl_user_list *l, int64_t now)
{
	enum {
		NAME,
		ROLE,
		EMAIL,
		GROUPS,
		STATE,
		PW,
		TOTP,
		LOCKED,
		FAILED,
		SESS,
		CREATED,
		DN,
		NCOL
	};
	static const char *const head[NCOL] = {"NAME",	 "ROLE",     "E-MAIL",	"GROUPS",
					       "STATE",	 "PASSWORD", "TOTP",	"LOCKED-UNTIL",
					       "FAILED", "SESSIONS", "CREATED", "CERT-DN"};
	size_t w[NCOL];
	char(*cell)[NCOL][DB_CERTDNMAX + 1] = calloc(l->n + 1, sizeof(*cell));

	if (cell == NULL)
		die("out of memory");
	for (int c = 0; c < NCOL; c++)
		snprintf(cell[0][c], sizeof(cell[0][c]), "%s", head[c]);
	for (size_t i = 0; i < l->n; i++) {
		const struct db_user_state *s = &l->v[i];
		char(*row)[DB_CERTDNMAX + 1] = cell[i + 1];
		char t[32];
		size_t off = 0;

		snprintf(row[NAME], sizeof(row[NAME]), "%s", s->name);
		snprintf(row[ROLE], sizeof(row[ROLE]), "%s", s->role);
		snprintf(row[EMAIL], sizeof(row[EMAIL]), "%s", s->email);
		for (size_t g = 0; g < s->ngroups && off < sizeof(row[GROUPS]); g++)
			off += (size_t)snprintf(row[GROUPS] + off, sizeof(row[GROUPS]) - off,
						"%s%s", g ? "," : "", s->groups[g]);
		if (s->ngroups == 0)
			snprintf(row[GROUPS], sizeof(row[GROUPS]), "-");
		snprintf(row[STATE], sizeof(row[STATE]), "%s",
			 s->disabled ? "disabled" : "enabled");
		snprintf(row[PW], sizeof(row[PW]), "%s", s->has_password ? "yes" : "no");
		snprintf(row[TOTP], sizeof(row[TOTP]), "%s", ctl_totp_state(s));
		snprintf(row[LOCKED], sizeof(row[LOCKED]), "%s",
			 s->locked_until > now ? ctl_time(s->locked_until, t, "-") : "-");
		snprintf(row[FAILED], sizeof(row[FAILED]), "%d", s->failed_logins);
		snprintf(row[SESS], sizeof(row[SESS]), "%lld", (long long)s->sessions);
		snprintf(row[CREATED], sizeof(row[CREATED]), "%s", ctl_time(s->created, t, "-"));
		snprintf(row[DN], sizeof(row[DN]), "%s", s->cert_dn[0] ? s->cert_dn : "-");
	}
	for (int c = 0; c < NCOL; c++) {
		w[c] = 0;
		for (size_t i = 0; i <= l->n; i++)
			if (strlen(cell[i][c]) > w[c])
				w[c] = strlen(cell[i][c]);
	}
	for (size_t i = 0; i <= l->n; i++) {
		for (int c = 0; c < NCOL - 1; c++)
			printf("%-*s  ", (int)w[c], cell[i][c]);
		printf("%s\n", cell[i][NCOL - 1]);
	}
	free(cell);
}

/* ctl_user_list - user list [--json] */
static void
ctl_user_list(struct db *db, int json, int64_t now)
{
	struct ctl_user_list l = {0};

	if (db_users_list(db, ctl_user_list_cb, &l) != DB_OK)
		die("cannot list the users");
	if (json) {
		json_t *a = json_array(), *o;
		char *s;
		for (size_t i = 0; a != NULL && i < l.n; i++)
			if (json_array_append_new(a, user_state_json(&l.v[i], now)) != 0)
				die("out of memory");
		o = a != NULL ? json_pack("{so}", "users", a) : NULL;
		s = o != NULL ? json_dumps(o, JSON_INDENT(2) | JSON_ENSURE_ASCII) : NULL;
		if (s == NULL)
			die("out of memory");
		printf("%s\n", s);
		free(s);
		json_decref(o);
	} else {
		ctl_user_table(&l, now);
	}
	free(l.v);
}

/* ctl_user_usage - the usage of user SUB, exit status 2 like okuructl's usage */
static _Noreturn void
ctl_user_usage(const char *sub)
{
	fprintf(stderr, "usage: okuructl -c CONF user %s %s\n", sub,
		strcmp(sub, "list") == 0   ? "[--json]"
		: strcmp(sub, "cert") == 0 ? "NAME DN|--clear"
					   : "NAME");
	exit(2);
}

int
cmd_user_admin(const char *confpath, int argc, char **argv)
{
	const char *sub = argv[1], *name = argc > 2 ? argv[2] : NULL, *why = NULL;
	struct audit_actor who;
	struct db_user_state s;
	struct conf c;
	struct db *db;
	char uid[32];
	int64_t now = util_now(), ended = 0;
	int r;

	if (strcmp(sub, "list") == 0) {
		if (argc > 3 || (argc == 3 && strcmp(argv[2], "--json") != 0))
			ctl_user_usage(sub);
		db = ctl_open_db(confpath, &c);
		ctl_user_list(db, argc == 3, now);
		goto out;
	}
	if (strcmp(sub, "cert") == 0 ? argc != 4 : argc != 3)
		ctl_user_usage(sub);
	if (strcmp(sub, "cert") == 0 && strcmp(argv[3], "--clear") != 0 && !user_dn_ok(argv[3]))
		die("the subject must be 1-%d bytes of UTF-8 without control characters, as "
		    "\"CN=...,O=...\"",
		    DB_CERTDNMAX);
	ctl_actor(&who, uid);
	db = ctl_open_db(confpath, &c);
	if (strcmp(sub, "show") == 0) {
		r = db_users_get(db, name, &s);
		if (r == DB_OK)
			ctl_user_show(&s, now);
	} else if (strcmp(sub, "passwd") == 0) {
		ctl_user_passwd(db, &who, name);
		goto out;
	} else if (strcmp(sub, "totp-reset") == 0) {
		r = db_users_totp_reset(db, name, now, &who, &ended);
		if (r == DB_OK)
			printf(
			    "TOTP reset for %s: a new enrolment at the next login (%lld sessions "
			    "ended)\n",
			    name, (long long)ended);
	} else if (strcmp(sub, "disable") == 0 || strcmp(sub, "enable") == 0) {
		int disable = strcmp(sub, "disable") == 0;
		r = db_users_disable(db, name, disable, now, &who, &ended, &why);
		if (r == DB_OK && disable)
			printf("user %s disabled (%lld sessions ended)\n", name, (long long)ended);
		else if (r == DB_OK)
			printf("user %s enabled\n", name);
	} else if (strcmp(sub, "unlock") == 0) {
		r = db_users_unlock(db, name, now, &who);
		if (r == DB_OK)
			printf("user %s unlocked\n", name);
	} else if (strcmp(sub, "cert") == 0) {
		const char *dn = strcmp(argv[3], "--clear") == 0 ? "" : argv[3];
		r = db_users_cert(db, name, dn, now, &who, &why);
		if (r == DB_OK && dn[0] != '\0')
			printf("user %s is the certificate subject %s\n", name, dn);
		else if (r == DB_OK)
			printf("user %s has no certificate subject\n", name);
	} else {
		r = db_users_end_sessions(db, name, now, &who, &ended);
		if (r == DB_OK)
			printf("%lld sessions of %s ended\n", (long long)ended, name);
	}
	if (r == DB_NOTFOUND)
		die("no such user: %s", name);
	if (r == DB_CONFLICT)
		die("%s: %s", name, why != NULL ? why : "conflict");
	if (r != DB_OK)
		die("cannot change user %s", name);
out:
	db_close(db);
	conf_free(&c);
	return 0;
}
