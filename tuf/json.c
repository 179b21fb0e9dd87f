/*
 * json.c: canonical JSON in the OLPC dialect of TUF (securesystemslib,
 * tuf-js): no whitespace, members sorted by key in byte order, integers
 * only, and strings with only '"' and '\' escaped.  jansson's compact
 * sorted output is exactly that once reals, control characters and
 * out-of-range integers are refused, which is what this file checks.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tuf.h"

static int
string_ok(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20)
			return 0;
	return 1;
}

/* Whether v holds only what OLPC canonical JSON can express. */
static int
canonical_ok(const json_t *v, int depth)
{
	const char	*key;
	json_t		*e;
	size_t		 i;

	if (depth > 64)
		return 0;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		json_object_foreach((json_t *)v, key, e)
			if (!string_ok(key, strlen(key)) ||
			    !canonical_ok(e, depth + 1))
				return 0;
		return 1;
	case JSON_ARRAY:
		json_array_foreach(v, i, e)
			if (!canonical_ok(e, depth + 1))
				return 0;
		return 1;
	case JSON_STRING:
		return string_ok(json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		return json_integer_value(v) >= 0 &&
		    json_integer_value(v) <= TUF_INT_MAX;
	case JSON_TRUE:
	case JSON_FALSE:
	case JSON_NULL:
		return 1;
	default:
		return 0;	/* reals */
	}
}

int
tuf_canonical(const json_t *v, char **out, size_t *len)
{
	if (v == NULL || !canonical_ok(v, 0))
		return TUF_EFORMAT;
	if ((*out = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_ENCODE_ANY)) == NULL)
		return TUF_ENOMEM;
	*len = strlen(*out);
	return 0;
}

json_t *
tuf_parse(const uint8_t *p, size_t len)
{
	json_error_t	 err;
	json_t		*v;

	if (p == NULL || len == 0)
		return NULL;
	if ((v = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES,
	    &err)) == NULL)
		return NULL;
	if (!json_is_object(v) || !canonical_ok(v, 0)) {
		json_decref(v);
		return NULL;
	}
	return v;
}

int
tuf_format_time(time_t t, char buf[21])
{
	struct tm	 tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) != 20)
		return TUF_EFORMAT;
	return 0;
}

int
tuf_parse_time(const char *s, time_t *t)
{
	struct tm	 tm;
	char		*end, check[21];

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || strlen(s) != 20 ||
	    (end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) == NULL ||
	    *end != '\0')
		return TUF_EFORMAT;
	*t = timegm(&tm);
	/* Only the exact form round-trips: no 24:00, no Feb 30. */
	if (tuf_format_time(*t, check) != 0 || strcmp(check, s) != 0)
		return TUF_EFORMAT;
	return 0;
}
