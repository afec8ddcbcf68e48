/*
 * ctl.h - what okuructl's command files share with okuructl.c.
 */
#ifndef OKURU_CTL_H
#define OKURU_CTL_H

/* die - "okuructl: MESSAGE" on stderr and exit (1, or 2 where a command says) */
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int cmd_policy(const char *confpath, int argc, char **argv);

#endif
