/*
 * user.c - what a staff account may be: the checks on a new user's name,
 * e-mail, role and groups and on a certificate subject, and the JSON an
 * administrator sees for an account. Nothing here touches the database.
 * The JSON never carries the password hash or the TOTP secret: only
 * whether each exists.
 */
#include "config.h"

#include <jansson.h>
#include <string.h>
#include <unistr.h>

#include "db.h"
#include "jsonutil.h"
#include "policy.h"
#include "user.h"
#include "util.h"

int
user_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > DB_NAMEMAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-' || ch == '@'))
			return 0;
	}
	return 1;
}

int
user_role_ok(const char *s)
{
	return strcmp(s, "sender") == 0 || strcmp(s, "approver") == 0 ||
	       strcmp(s, "auditor") == 0 || strcmp(s, "admin") == 0;
}

int
user_fields_check(const char *name, const char *email, const char *role, const char *const *groups,
		  size_t n, const char **field, const char **why)
{
	if (!user_name_ok(name)) {
		*field = "name";
		*why = "name must be 1-64 characters of A-Z a-z 0-9 . _ - @";
		return -1;
	}
	if (strlen(email) > DB_EMAILMAX || util_mailbox_ok(email) != 0) {
		*field = "email";
		*why = "email must be one usable e-mail address (local@domain)";
		return -1;
	}
	if (!user_role_ok(role)) {
		*field = "role";
		*why = "role must be sender, approver, auditor or admin";
		return -1;
	}
	_Static_assert(DB_MAXGROUPS == 32, "the message below names the limit");
	for (size_t g = 0; g < n || n > DB_MAXGROUPS; g++) {
		if (n > DB_MAXGROUPS || !policy_name_ok(groups[g])) {
			*field = "groups";
			*why = "groups must each be 1-64 characters of A-Z a-z 0-9 . _ - (at most "
			       "32 groups)";
			return -1;
		}
	}
	return 0;
}

int
user_dn_ok(const char *dn)
{
	size_t n = strlen(dn);

	return n > 0 && n <= DB_CERTDNMAX && u8_check((const uint8_t *)dn, n) == NULL &&
	       !jsonutil_has_controls(dn, 0) && strchr(dn, '=') != NULL;
}

json_t *
user_state_json(const struct db_user_state *s, int64_t now)
{
	json_t *groups = json_array();

	for (size_t g = 0; groups != NULL && g < s->ngroups; g++)
		if (json_array_append_new(groups, json_string(s->groups[g])) != 0) {
			json_decref(groups);
			groups = NULL;
		}
	if (groups == NULL)
		return NULL;
	return json_pack("{s:s, s:s, s:s, s:o, s:b, s:b, s:o, s:b, s:b, s:i, s:o, s:b, s:s?, s:I, "
			 "s:o}",
			 "name", s->name, "email", s->email, "role", s->role, "groups", groups,
			 "disabled", s->disabled, "password", s->has_password, "password_changed",
			 jsonutil_time(s->pw_changed), "totp_enrolled", s->totp_enrolled,
			 "totp_pending", s->totp_pending, "failed_logins", s->failed_logins,
			 "locked_until", jsonutil_time(s->locked_until), "locked",
			 s->locked_until > now, "cert_dn",
			 s->cert_dn[0] != '\0' ? s->cert_dn : NULL, "sessions",
			 (json_int_t)s->sessions, "created", jsonutil_time(s->created));
}
