/*
 * audit_export.h - an audit record in the shapes it leaves okuru in: a
 * JSON object (GET /api/v1/audit, JSONL export) and a CSV row (RFC 4180,
 * guarded against formula injection; okuructl audit export).
 */
#ifndef OKURU_AUDIT_EXPORT_H
#define OKURU_AUDIT_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "db.h"

/* The CSV header row's fields, in the order audit_csv_row writes them. */
#define AUDIT_CSV_HEADER                                                                           \
	"seq,at,actor_kind,actor,ip,user_agent,event,object_kind,object_id,outcome,detail,hash"

/*
 * audit_csv_field - S as one CSV field (newly allocated; NULL when out of
 * memory). A field that begins with '=', '+', '-', '@', TAB or CR, which
 * Excel would read as a formula, gets a leading apostrophe; then a field
 * containing a comma, a double quote, CR or LF is put in double quotes
 * with its quotes doubled (RFC 4180). Everything else is unchanged.
 */
char *audit_csv_field(const char *s);

/* audit_csv_row - R as one CSV line ending in CRLF; 0, or -1 (write error, no memory) */
int audit_csv_row(FILE *out, const struct db_audit_row *r);

/*
 * audit_row_json - R as a JSON object: seq, at (RFC 3339 UTC), actor_kind,
 * actor, ip, user_agent, event, object_kind, object_id, outcome, detail (the
 * parsed object; the text, or null, should a damaged row not parse) and hash
 * (hex). NULL when out of memory.
 */
json_t *audit_row_json(const struct db_audit_row *r);

/*
 * audit_time_parse - a time as the audit readers take it: Unix seconds
 * (digits only) or YYYY-MM-DDTHH:MM:SSZ (util_time_parse). 0, or -1.
 */
int audit_time_parse(const char *s, int64_t *out);

#endif
