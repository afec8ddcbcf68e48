/*
 * user.h - the rules a staff account's fields must meet, and an account's
 * state as JSON. okuructl user (okuructl.c, ctl_user.c) and the admin API
 * (api_users.c) both use these, so both accept and show exactly the same.
 */
#ifndef OKURU_USER_H
#define OKURU_USER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct db_user_state;

/* A staff password has at least this many characters (auth_pw_check counts code points). */
#define USER_PW_MIN_CHARS 12

/* user_name_ok - 1-64 of A-Z a-z 0-9 . _ - @ */
int user_name_ok(const char *s);
/* user_role_ok - sender, approver, auditor or admin */
int user_role_ok(const char *s);
/*
 * user_fields_check - 0 when NAME, EMAIL, ROLE and the N GROUPS may make a
 * user; else -1 with *field the wrong one ("name", "email", "role",
 * "groups") and *why a sentence that starts with it
 */
int user_fields_check(const char *name, const char *email, const char *role,
		      const char *const *groups, size_t n, const char **field, const char **why);
/* user_dn_ok - a certificate subject DN we store: 1-1024 bytes of UTF-8, no controls, an "=" */
int user_dn_ok(const char *dn);
/* user_state_json - the account as okuructl user list --json and the API show it */
json_t *user_state_json(const struct db_user_state *s, int64_t now);

#endif
