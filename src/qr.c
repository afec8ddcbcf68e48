/*
 * qr.c - QR code to SVG. Error correction level M, a four-module quiet zone
 * as the standard asks, one path of unit squares so the image scales
 * without blur. The SVG has no script and no style: the page's CSP holds.
 */
#include "config.h"

#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qr.h"

#define QR_QUIET 4

char *
qr_svg(const char *text, size_t *len)
{
	QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	size_t cap, n = 0;
	char *out;
	int w, side;

	if (q == NULL)
		return NULL;
	w = q->width;
	side = w + 2 * QR_QUIET;
	/* at most one "M x yh1v1h-1z" of 32 bytes per module, plus the frame */
	cap = (size_t)w * (size_t)w * 32 + 512;
	out = malloc(cap);
	if (out == NULL) {
		QRcode_free(q);
		return NULL;
	}
	n += (size_t)snprintf(
	    out + n, cap - n,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
	    "shape-rendering=\"crispEdges\">"
	    "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
	    side, side, side, side);
	for (int y = 0; y < w; y++)
		for (int x = 0; x < w; x++)
			if (q->data[y * w + x] & 1)
				n += (size_t)snprintf(out + n, cap - n, "M%d %dh1v1h-1z",
						      x + QR_QUIET, y + QR_QUIET);
	n += (size_t)snprintf(out + n, cap - n, "\"/></svg>\n");
	QRcode_free(q);
	*len = n;
	return out;
}
