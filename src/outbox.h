/*
 * outbox.h - turn a template into a queued message: render it, pack it and
 * seal it under a fresh key wrapped by the master key, so the database
 * holds no readable link or code; and open it again for delivery.
 */
#ifndef OKURU_OUTBOX_H
#define OKURU_OUTBOX_H

#include <stddef.h>

#include "conf.h"
#include "db.h"
#include "keys.h"
#include "mail.h"

int outbox_prepare(const struct keyring *kr, const struct conf *c, const char *tmpl,
		   const char *to, const struct mail_var *vars, size_t nvars,
		   const char *transfer_id, const char *link_id, struct db_mail *out, char *err,
		   size_t errlen);
void outbox_mail_free(struct db_mail *m);
int outbox_open(const struct keyring *kr, const struct db_outbox *o, struct mail_msg *m);

#endif
