/*
 * qr.h - a QR code as an SVG image (libqrencode makes the matrix), for the
 * TOTP enrolment page: the otpauth:// URI never leaves the server as
 * anything but this picture and the base32 secret shown beside it.
 */
#ifndef OKURU_QR_H
#define OKURU_QR_H

#include <stddef.h>

/* qr_svg - a malloc'ed SVG document for TEXT, its length in *len; NULL on failure */
char *qr_svg(const char *text, size_t *len);

#endif
