/*
 * html.h - escaping text for HTML: mail bodies (mail.c) and web pages.
 */
#ifndef OKURU_HTML_H
#define OKURU_HTML_H

/*
 * html_escape - a malloc'd copy of s with & < > " ' replaced by entities,
 * safe in element content and in quoted attribute values; NULL on OOM.
 */
char *html_escape(const char *s);

#endif
