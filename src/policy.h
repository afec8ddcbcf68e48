/*
 * policy.h - okuru's policy: who may send what to whom, for how long, with
 * whose approval, and how long it is kept (see okuru-policy(5)). The file is
 * parsed by libconfig; rules are tried in order and, for each decision
 * separately, the first matching rule that makes it wins, else the default.
 * Every decision carries the rule that made it and why, so compliance can
 * see which rule decided each transfer.
 */
#ifndef OKURU_POLICY_H
#define OKURU_POLICY_H

#include <stddef.h>
#include <stdint.h>

#define POLICY_IDMAX 64
#define POLICY_WHYMAX 320

struct policy;

/* What is being decided: a send (or a request, with no files yet). */
struct policy_file {
	const char *name;
	int64_t size;
	const char *type;    /* detected media type (libmagic), "" if unknown */
	const char *verdict; /* clean, infected, unscannable, error; "" before the scan */
	int encrypted;	     /* an encrypted archive or document */
};

struct policy_request {
	const char *sender;
	const char *sender_role;
	const char *const *sender_groups;
	size_t ngroups;
	const char *const *recipients;
	size_t nrecipients;
	const struct policy_file *files;
	size_t nfiles;
};

/* The separate decisions, each made by the first rule that makes it. */
enum policy_part {
	POLICY_DENY,
	POLICY_APPROVAL,
	POLICY_DELAY,
	POLICY_EXPIRY,
	POLICY_DOWNLOADS,
	POLICY_VERIFICATION,
	POLICY_UNSCANNABLE,
	POLICY_ENCRYPTED,
	POLICY_RETENTION,
	POLICY_NPARTS
};

struct policy_decision {
	int deny;
	char deny_message[256];
	int approvals;	      /* 0: none needed */
	char approval_group[POLICY_IDMAX + 1];
	int approval_self;    /* may the sender approve their own transfer */
	int approval_hours;   /* an approval request expires after this */
	int delay_minutes;    /* send delay (誤送信防止) */
	int expiry_days;      /* default */
	int max_expiry_days;  /* allowed */
	int download_limit;
	char verification[16]; /* email-otp, passphrase, none */
	int allow_unscannable;
	int allow_encrypted;
	int retention_days;    /* content kept after the transfer ends */
	char rule[POLICY_NPARTS][POLICY_IDMAX + 1]; /* "default" or a rule id */
	char why[POLICY_NPARTS][POLICY_WHYMAX];
};

/* Global retention, from the file's retention group. */
struct policy_retention {
	int content_days;
	int metadata_days;
	int audit_days;
};

/* The outcome for a send, from a decision and the files' verdicts. */
enum policy_outcome {
	POLICY_SEND = 0,
	POLICY_HOLD = 1,     /* send after delay_minutes */
	POLICY_APPROVE = 2,  /* needs approval first */
	POLICY_BLOCKED = 3,  /* a file may not pass (unscannable, encrypted) */
	POLICY_DENIED = 4,
};

enum policy_outcome policy_outcome(const struct policy_decision *d,
				   const struct policy_request *rq, char *why, size_t whylen);

/* What stops a send: the first file whose scan does not let it pass. */
struct policy_block {
	size_t file;       /* index into the request's files */
	const char *cause; /* infected, failed, pending, encrypted, unscannable */
};
/* policy_block_find - 1 and *b when a file stops the send, else 0 */
int policy_block_find(const struct policy_decision *d, const struct policy_request *rq,
		      struct policy_block *b);

int policy_load(const char *path, struct policy **out, char *err, size_t errlen);
void policy_free(struct policy *p);
void policy_eval(const struct policy *p, const struct policy_request *rq,
		 struct policy_decision *d);
void policy_retention(const struct policy *p, struct policy_retention *r);
/* policy_defaults - the decision no rule changes (the defaults group) */
void policy_defaults(const struct policy *p, struct policy_decision *d);
/*
 * policy_type_mismatch - 1 when f's detected type is none of those the
 * policy's extension_types lists for its extension (why, if not NULL,
 * says so); 0 for an unknown type, an empty file or an unlisted extension.
 */
int policy_type_mismatch(const struct policy *p, const struct policy_file *f, char *why,
			 size_t whylen);
size_t policy_nrules(const struct policy *p);
const char *policy_path(const struct policy *p);
/* policy_name_ok - a rule id or group name: 1-64 of A-Z a-z 0-9 . _ - */
int policy_name_ok(const char *s);
const char *policy_part_name(enum policy_part part);
const char *policy_outcome_name(enum policy_outcome o); /* send, hold, approval, ... */
void policy_part_value(const struct policy_decision *d, enum policy_part part, char *v,
		       size_t len);

#endif
