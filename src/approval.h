/*
 * approval.h - the approval workflow's mails and lapses (see approval.c).
 */
#ifndef OKURU_APPROVAL_H
#define OKURU_APPROVAL_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "http.h"
#include "mailer.h"
#include "policy.h"

/* The approval requests prepared for one send, queued in its transaction. */
struct approval_ask {
	struct db_mail *mails;
	size_t n;
	int failed; /* a failure (503), not a refusal (409) */
};

int approval_eligible(struct server *srv, const struct db_user *u, const struct db_sendinfo *si);
int approval_ask_prepare(struct server *srv, struct approval_ask *ask, const struct db_transfer *t,
			 const char *message, const struct db_user *owner,
			 const struct db_user *sender, const struct policy_decision *d,
			 const char *const *addrs, size_t naddr, const char *files_text,
			 const char *files_html, char *why, size_t whylen, int64_t now);
void approval_ask_free(struct approval_ask *ask);
int approval_notice(struct server *srv, const char *tid, const char *result, const char *by,
		    const char *comment, struct db_mail *out);
void approval_lapse_run(struct server *srv, int64_t now);

#endif
