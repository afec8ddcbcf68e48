/*
 * test_user.c - the rules for a staff account's fields (shared by okuructl
 * user add and POST /api/v1/admin/users), the certificate subject check,
 * and the account's JSON: every field, the lock as of a given time, and
 * nothing secret.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "user.h"

static void
test_name_role(void **state)
{
	char longest[DB_NAMEMAX + 2];

	(void)state;
	assert_true(user_name_ok("alice"));
	assert_true(user_name_ok("a.b_c-d@bank.example"));
	assert_false(user_name_ok(""));
	assert_false(user_name_ok("a b"));
	assert_false(user_name_ok("a/b"));
	assert_false(user_name_ok("名前"));
	memset(longest, 'a', DB_NAMEMAX);
	longest[DB_NAMEMAX] = '\0';
	assert_true(user_name_ok(longest));
	longest[DB_NAMEMAX] = 'a';
	longest[DB_NAMEMAX + 1] = '\0';
	assert_false(user_name_ok(longest));
	assert_true(user_role_ok("sender"));
	assert_true(user_role_ok("approver"));
	assert_true(user_role_ok("auditor"));
	assert_true(user_role_ok("admin"));
	assert_false(user_role_ok("Admin"));
	assert_false(user_role_ok(""));
}

/* check - user_fields_check's verdict: NULL when accepted, else the field it names */
static const char *
check(const char *name, const char *email, const char *role, const char *const *groups, size_t n)
{
	const char *field = NULL, *why = NULL;

	if (user_fields_check(name, email, role, groups, n, &field, &why) == 0)
		return NULL;
	/* The sentence names the field first: the API sends it as it is. */
	assert_non_null(why);
	assert_int_equal(strncmp(why, field, strlen(field)), 0);
	return field;
}

static void
test_fields(void **state)
{
	static const char *const two[] = {"tokyo", "osaka"};
	static const char *const badgroup[] = {"tokyo", "a b"};
	const char *many[DB_MAXGROUPS + 1];
	char names[DB_MAXGROUPS + 1][8];

	(void)state;
	for (size_t i = 0; i <= DB_MAXGROUPS; i++) {
		snprintf(names[i], sizeof(names[i]), "g%zu", i);
		many[i] = names[i];
	}
	assert_null(check("alice", "alice@bank.example", "sender", NULL, 0));
	assert_null(check("alice", "alice@bank.example", "admin", two, 2));
	assert_null(check("alice", "alice@bank.example", "sender", many, DB_MAXGROUPS));
	assert_string_equal(check("al ice", "alice@bank.example", "sender", NULL, 0), "name");
	assert_string_equal(check("", "alice@bank.example", "sender", NULL, 0), "name");
	assert_string_equal(check("alice", "alice", "sender", NULL, 0), "email");
	assert_string_equal(check("alice", "alice@bank.example\r\nBcc: x@y.z", "sender", NULL, 0),
			    "email");
	assert_string_equal(check("alice", "a, b@bank.example", "sender", NULL, 0), "email");
	assert_string_equal(check("alice", "alice@bank.example", "root", NULL, 0), "role");
	assert_string_equal(check("alice", "alice@bank.example", "sender", badgroup, 2), "groups");
	assert_string_equal(check("alice", "alice@bank.example", "sender", many, DB_MAXGROUPS + 1),
			    "groups");
	/* The first wrong field is the one named. */
	assert_string_equal(check("a b", "x", "root", badgroup, 2), "name");
}

static void
test_dn(void **state)
{
	char dn[DB_CERTDNMAX + 2];

	(void)state;
	assert_true(user_dn_ok("CN=alice,O=Example Bank,C=JP"));
	assert_true(user_dn_ok("CN=山田太郎,O=銀行,C=JP"));
	assert_false(user_dn_ok(""));
	assert_false(user_dn_ok("alice"));
	assert_false(user_dn_ok("CN=a\nb"));
	assert_false(user_dn_ok("CN=a\x7f"));
	assert_false(user_dn_ok("CN=\xff\xfe"));
	assert_false(user_dn_ok("CN=\xe5\xb1"));
	memset(dn, 'a', sizeof(dn));
	memcpy(dn, "CN=", 3);
	dn[DB_CERTDNMAX] = '\0';
	assert_true(user_dn_ok(dn));
	dn[DB_CERTDNMAX] = 'a';
	dn[DB_CERTDNMAX + 1] = '\0';
	assert_false(user_dn_ok(dn));
}

static void
test_json(void **state)
{
	struct db_user_state s;
	json_t *o;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.id = 7;
	strcpy(s.name, "alice");
	strcpy(s.email, "alice@bank.example");
	strcpy(s.role, "approver");
	strcpy(s.groups[0], "osaka");
	strcpy(s.groups[1], "tokyo");
	s.ngroups = 2;
	s.has_password = 1;
	s.pw_changed = 1700000000;
	s.totp_pending = 1;
	s.failed_logins = 3;
	s.locked_until = 1700000600;
	s.sessions = 2;
	s.created = 1600000000;

	o = user_state_json(&s, 1700000000);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "name")), "alice");
	assert_string_equal(json_string_value(json_object_get(o, "email")), "alice@bank.example");
	assert_string_equal(json_string_value(json_object_get(o, "role")), "approver");
	assert_int_equal(json_array_size(json_object_get(o, "groups")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(o, "groups"), 1)),
			    "tokyo");
	assert_true(json_is_false(json_object_get(o, "disabled")));
	assert_true(json_is_true(json_object_get(o, "password")));
	assert_string_equal(json_string_value(json_object_get(o, "password_changed")),
			    "2023-11-14T22:13:20Z");
	assert_true(json_is_false(json_object_get(o, "totp_enrolled")));
	assert_true(json_is_true(json_object_get(o, "totp_pending")));
	assert_int_equal(json_integer_value(json_object_get(o, "failed_logins")), 3);
	assert_string_equal(json_string_value(json_object_get(o, "locked_until")),
			    "2023-11-14T22:23:20Z");
	assert_true(json_is_true(json_object_get(o, "locked")));
	assert_true(json_is_null(json_object_get(o, "cert_dn")));
	assert_int_equal(json_integer_value(json_object_get(o, "sessions")), 2);
	assert_string_equal(json_string_value(json_object_get(o, "created")),
			    "2020-09-13T12:26:40Z");
	/* Only these keys: no id, hash or secret can slip in. */
	assert_int_equal(json_object_size(o), 15);
	json_decref(o);

	/* The lock is over at its end; a DN is shown as it is. */
	strcpy(s.cert_dn, "CN=alice,C=JP");
	o = user_state_json(&s, 1700000600);
	assert_true(json_is_false(json_object_get(o, "locked")));
	assert_string_equal(json_string_value(json_object_get(o, "cert_dn")), "CN=alice,C=JP");
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_name_role),
	    cmocka_unit_test(test_fields),
	    cmocka_unit_test(test_dn),
	    cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
