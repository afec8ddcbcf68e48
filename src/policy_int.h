/*
 * policy_int.h - the loaded policy's structure, shared by policy.c (which
 * reads and evaluates it) and policy_dump.c (which shows it as JSON).
 * Nothing else looks inside a struct policy.
 */
#ifndef OKURU_POLICY_INT_H
#define OKURU_POLICY_INT_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"

#define POLICY_EXTMAX 32  /* bytes of one extension */
#define POLICY_UNSET (-1) /* a rule's value that it does not set */

struct policy_list {
	char **v;
	size_t n;
};

struct policy_match {
	struct policy_list senders, roles, groups, domains, domains_not, addresses;
	struct policy_list types, extensions, verdicts;
	int min_recipients, max_recipients, min_files, max_files, encrypted, type_mismatch;
	int64_t min_file_size, min_total_size;
};

/* An extension and the types its content may have (a list of policy->exttypes_lists). */
struct policy_exttype {
	char ext[POLICY_EXTMAX + 1]; /* lower case, without the dot */
	const struct policy_list *types;
};

/* A rule's actions; POLICY_UNSET (or has_* 0) where it says nothing. */
struct policy_rule {
	char id[POLICY_IDMAX + 1];
	struct policy_match m;
	int has_deny; /* 1: deny with message, 2: allow */
	char deny_message[256];
	int has_approval;
	int approvals, approval_self, approval_hours;
	char approval_group[POLICY_IDMAX + 1];
	int delay_minutes, expiry_days, max_expiry_days, download_limit;
	int allow_unscannable, allow_encrypted, retention_days;
	char verification[16];
};

struct policy {
	char *path;
	struct policy_rule *rules;
	size_t nrules;
	struct policy_exttype *exttypes; /* every extension, sorted */
	size_t nexttypes;
	struct policy_list *exttypes_lists; /* one per extension_types entry */
	size_t nexttypes_lists;
	struct policy_decision defaults;
	struct policy_retention retention;
	int64_t loaded_at; /* when policy_load read the file (GET /api/v1/admin/status) */
};

#endif
