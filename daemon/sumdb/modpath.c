/*
 * modpath.c: module paths and versions as golang.org/x/mod/module and
 * x/mod/semver define them: validity (CheckPath, semver.IsValid, the
 * major-version suffix rule of module.Check), the case escaping of URL
 * paths ('A' becomes "!a"), and the module@version of a lookup URL.
 */

#include <string.h>
#include <strings.h>

#include "sumdb.h"

enum kind { MODULE_PATH, FILE_PATH };

static const char *windows_names[] = {
	"CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5",
	"COM6", "COM7", "COM8", "COM9", "LPT1", "LPT2", "LPT3", "LPT4",
	"LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
};

static int
is_alnum(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* One path element (x/mod checkElem); only ASCII is accepted. */
static int
check_elem(const char *e, size_t len, enum kind kind)
{
	size_t	 i, dots = 0, shortlen, k;
	int	 c;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++)
		if (e[i] == '.')
			dots++;
	if (dots == len || e[len - 1] == '.')
		return -1;
	if (kind == MODULE_PATH && e[0] == '.')
		return -1;
	for (i = 0; i < len; i++) {
		c = (unsigned char)e[i];
		if (is_alnum(c))
			continue;
		if (kind == MODULE_PATH && strchr("-._~", c) != NULL && c)
			continue;
		if (kind == FILE_PATH &&
		    strchr("!#$%&()+,-.=@[]^_{}~ ", c) != NULL && c)
			continue;
		return -1;
	}
	shortlen = len;
	if (memchr(e, '.', len) != NULL)
		shortlen = (const char *)memchr(e, '.', len) - e;
	for (k = 0; k < sizeof(windows_names) / sizeof(windows_names[0]);
	    k++)
		if (strlen(windows_names[k]) == shortlen &&
		    strncasecmp(windows_names[k], e, shortlen) == 0)
			return -1;
	if (kind == FILE_PATH)
		return 0;
	/* No "~" followed only by digits at the end of the short name. */
	for (i = shortlen; i > 0 && e[i - 1] != '~'; i--)
		;
	if (i > 0 && i < shortlen) {
		for (k = i; k < shortlen && is_digit(e[k]); k++)
			;
		if (k == shortlen)
			return -1;
	}
	return 0;
}

/* x/mod module.SplitPathVersion for gopkg.in paths. */
static int
split_gopkgin(const char *path, size_t len, size_t *prefixlen)
{
	size_t	 i = len;

	if (len >= 9 && memcmp(path + len - 9, "-unstable", 9) == 0)
		i -= 9;
	while (i > 0 && is_digit(path[i - 1]))
		i--;
	if (i <= 1 || path[i - 1] != 'v' || path[i - 2] != '.')
		return -1;
	*prefixlen = i - 2;
	/* pathMajor = path[i-2:]: ".vN", no leading zero unless ".v0" */
	if (len - (i - 2) <= 2)
		return -1;
	if (path[i] == '0' && !(len - (i - 2) == 3))
		return -1;
	return 0;
}

/*
 * x/mod module.SplitPathVersion: *prefixlen is where the major-version
 * suffix ("/v2", ".v1") starts, or len if there is none.
 */
static int
split_path_version(const char *path, size_t len, size_t *prefixlen)
{
	size_t	 i = len;
	int	 dot = 0;

	if (len >= 9 && memcmp(path, "gopkg.in/", 9) == 0)
		return split_gopkgin(path, len, prefixlen);
	while (i > 0 && (is_digit(path[i - 1]) || path[i - 1] == '.')) {
		if (path[i - 1] == '.')
			dot = 1;
		i--;
	}
	*prefixlen = len;
	if (i <= 1 || i == len || path[i - 1] != 'v' || path[i - 2] != '/')
		return 0;
	if (dot || len - (i - 2) <= 2 || path[i] == '0' ||
	    (len - (i - 2) == 3 && path[i] == '1'))
		return -1;
	*prefixlen = i - 2;
	return 0;
}

int
modpath_check_path(const char *path, size_t len)
{
	size_t	 i, start = 0, first, prefixlen;

	if (len == 0 || len >= SUMDB_PATH_MAX || path[0] == '-' ||
	    path[len - 1] == '/')
		return 0;
	for (i = 0; i <= len; i++) {
		if (i < len && path[i] != '/')
			continue;
		if (check_elem(path + start, i - start, MODULE_PATH) != 0)
			return 0;
		start = i + 1;
	}
	first = (const char *)memchr(path, '/', len) != NULL ?
	    (size_t)((const char *)memchr(path, '/', len) - path) : len;
	if (memchr(path, '.', first) == NULL)
		return 0;
	for (i = 0; i < first; i++)
		if (!(is_digit(path[i]) || (path[i] >= 'a' && path[i] <= 'z') ||
		    path[i] == '-' || path[i] == '.'))
			return 0;
	return split_path_version(path, len, &prefixlen) == 0;
}

/* Parse semver's numeric field at *p; no leading zeros. */
static int
semver_int(const char **p, const char *end)
{
	const char	*s = *p;

	if (s == end || !is_digit(*s))
		return -1;
	while (*p < end && is_digit(**p))
		(*p)++;
	if (s[0] == '0' && *p - s != 1)
		return -1;
	return 0;
}

/* Whether [s, e) is a numeric identifier with a leading zero. */
static int
bad_num(const char *s, const char *e)
{
	const char	*p;

	for (p = s; p < e && is_digit(*p); p++)
		;
	return p == e && e - s > 1 && s[0] == '0';
}

/*
 * Parse a semantic version.  *full is set when all of major.minor.patch
 * are present; *build points at the "+build" part (or end).
 */
static int
semver_parse(const char *v, size_t len, int *full, const char **build)
{
	const char	*p = v, *end = v + len, *start;

	*full = 0;
	*build = end;
	if (len == 0 || *p++ != 'v' || semver_int(&p, end) != 0)
		return -1;
	if (p == end)
		return 0;
	if (*p++ != '.' || semver_int(&p, end) != 0)
		return -1;
	if (p == end)
		return 0;
	if (*p++ != '.' || semver_int(&p, end) != 0)
		return -1;
	*full = 1;
	if (p < end && *p == '-') {
		start = ++p;
		for (; p < end && *p != '+'; p++) {
			if (*p == '.') {
				if (start == p || bad_num(start, p))
					return -1;
				start = p + 1;
			} else if (!is_alnum(*p) && *p != '-')
				return -1;
		}
		if (start == p || bad_num(start, p))
			return -1;
	}
	if (p < end && *p == '+') {
		*build = p;
		start = ++p;
		for (; p < end; p++) {
			if (*p == '.') {
				if (start == p)
					return -1;
				start = p + 1;
			} else if (!is_alnum(*p) && *p != '-')
				return -1;
		}
		if (start == p)
			return -1;
	}
	return p == end ? 0 : -1;
}

int
modpath_semver_valid(const char *v, size_t len)
{
	const char	*build;
	int		 full;

	return semver_parse(v, len, &full, &build) == 0;
}

int
modpath_semver_canonical(const char *v, size_t len)
{
	const char	*build;
	int		 full;

	if (semver_parse(v, len, &full, &build) != 0 || !full)
		return 0;
	return build == v + len ||
	    ((size_t)(v + len - build) == 13 &&
	    memcmp(build, "+incompatible", 13) == 0);
}

int
modpath_check(const char *path, size_t pathlen, const char *version,
    size_t versionlen)
{
	const char	*build, *major, *p;
	size_t		 prefixlen, mlen, vmlen;
	int		 full;

	if (!modpath_check_path(path, pathlen) ||
	    !modpath_semver_canonical(version, versionlen) ||
	    semver_parse(version, versionlen, &full, &build) != 0 ||
	    split_path_version(path, pathlen, &prefixlen) != 0)
		return SUMDB_EFORMAT;
	/* The version's major number, "v" and digits. */
	for (p = version + 1; p < version + versionlen && is_digit(*p); p++)
		;
	vmlen = p - version;
	major = path + prefixlen;
	mlen = pathlen - prefixlen;
	if (mlen > 9 && major[0] == '.' &&
	    memcmp(major + mlen - 9, "-unstable", 9) == 0)
		mlen -= 9;
	if (versionlen >= 7 && memcmp(version, "v0.0.0-", 7) == 0 &&
	    mlen == 3 && memcmp(major, ".v1", 3) == 0)
		return 0;
	if (mlen == 0) {
		if ((vmlen == 2 && (version[1] == '0' || version[1] == '1')) ||
		    (size_t)(version + versionlen - build) == 13)
			return 0;
		return SUMDB_EFORMAT;
	}
	if (mlen - 1 == vmlen && memcmp(major + 1, version, vmlen) == 0)
		return 0;
	return SUMDB_EFORMAT;
}

/* Copy s escaping upper case; 0 on success, or an error. */
static int
escape(const char *s, size_t len, char *buf, size_t size)
{
	size_t	 i, o = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '!' || (unsigned char)s[i] >= 0x80 || s[i] == '\0')
			return SUMDB_EFORMAT;
		if (o + 3 > size)
			return SUMDB_ELIMIT;
		if (s[i] >= 'A' && s[i] <= 'Z') {
			buf[o++] = '!';
			buf[o++] = s[i] - 'A' + 'a';
		} else
			buf[o++] = s[i];
	}
	if (o + 1 > size)
		return SUMDB_ELIMIT;
	buf[o] = '\0';
	return (int)o;
}

static int
unescape(const char *s, size_t len, char *buf, size_t size)
{
	size_t	 i, o = 0;
	int	 bang = 0;

	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] >= 0x80 || s[i] == '\0')
			return SUMDB_EFORMAT;
		if (o + 2 > size)
			return SUMDB_ELIMIT;
		if (bang) {
			bang = 0;
			if (s[i] < 'a' || s[i] > 'z')
				return SUMDB_EFORMAT;
			buf[o++] = s[i] - 'a' + 'A';
		} else if (s[i] == '!')
			bang = 1;
		else if (s[i] >= 'A' && s[i] <= 'Z')
			return SUMDB_EFORMAT;
		else
			buf[o++] = s[i];
	}
	if (bang)
		return SUMDB_EFORMAT;
	buf[o] = '\0';
	return (int)o;
}

int
modpath_escape_path(const char *path, size_t len, char *buf, size_t size)
{
	if (!modpath_check_path(path, len))
		return SUMDB_EFORMAT;
	return escape(path, len, buf, size);
}

int
modpath_escape_version(const char *v, size_t len, char *buf, size_t size)
{
	if (check_elem(v, len, FILE_PATH) != 0 || memchr(v, '!', len) != NULL)
		return SUMDB_EFORMAT;
	return escape(v, len, buf, size);
}

int
modpath_unescape_path(const char *esc, size_t len, char *buf, size_t size)
{
	int	 n;

	if ((n = unescape(esc, len, buf, size)) < 0)
		return n;
	return modpath_check_path(buf, n) ? n : SUMDB_EFORMAT;
}

int
modpath_unescape_version(const char *esc, size_t len, char *buf, size_t size)
{
	int	 n;

	if ((n = unescape(esc, len, buf, size)) < 0)
		return n;
	return check_elem(buf, n, FILE_PATH) == 0 ? n : SUMDB_EFORMAT;
}

int
modpath_parse_lookup(const char *s, size_t len, char *path, char *version)
{
	const char	*at;
	int		 pl, vl;

	if ((at = memchr(s, '@', len)) == NULL ||
	    memchr(at + 1, '@', s + len - at - 1) != NULL)
		return SUMDB_EFORMAT;
	if ((pl = modpath_unescape_path(s, at - s, path, SUMDB_PATH_MAX)) < 0 ||
	    (vl = modpath_unescape_version(at + 1, s + len - at - 1, version,
	    SUMDB_PATH_MAX)) < 0)
		return SUMDB_EFORMAT;
	return modpath_check(path, pl, version, vl);
}
