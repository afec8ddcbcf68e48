/*
 * mailer.h - the outbox worker in okurud: one thread that delivers queued
 * messages through smtp.c, retries with exponential backoff, and gives up
 * after smtp.give_up, telling the sender. Nothing is ever sent without TLS.
 */
#ifndef OKURU_MAILER_H
#define OKURU_MAILER_H

#include <stdint.h>

#include "conf.h"
#include "db.h"
#include "keys.h"

struct mailer;

struct mailer_info {
	int enabled;
	int64_t last_sent;
	char last_error[256];
};

int mailer_start(const struct conf *c, struct db *db, const struct keyring *kr,
		 struct mailer **out, char *err, size_t errlen);
void mailer_kick(struct mailer *m);
void mailer_stop(struct mailer *m);
void mailer_info(struct mailer *m, struct mailer_info *i);

#endif
