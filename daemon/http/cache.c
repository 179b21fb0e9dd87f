/*
 * cache.c: a worker's cache of answers that never change once served:
 * tiles (full or partial, hash or data: a tile of a given width is the
 * same bytes in every later tree) and the record part of lookups.  It
 * spares the store a query per request.  Keyed by database and path,
 * least recently used entries go first, within a byte budget.  Only
 * its worker touches it.
 */

#include <stdlib.h>
#include <string.h>

#include "http.h"

#define CACHE_BUCKETS	4096	/* a power of two */

struct centry {
	struct centry		*next;		/* in its bucket */
	TAILQ_ENTRY(centry)	 lru;
	uint64_t		 hash;
	int			 db;
	int64_t			 id;
	size_t			 keylen, len;
	char			*key;
	uint8_t			 data[];	/* the key follows the data */
};

static uint64_t
hash(int db, const char *key, size_t len)
{
	uint64_t	 h = 14695981039346656037ULL ^ (uint64_t)db;
	size_t		 i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)key[i]) * 1099511628211ULL;
	return h;
}

int
cache_init(struct cache *c, size_t max)
{
	memset(c, 0, sizeof(*c));
	TAILQ_INIT(&c->lru);
	c->max = max;
	if (max == 0)
		return 0;
	if ((c->tab = calloc(CACHE_BUCKETS, sizeof(*c->tab))) == NULL)
		return -1;
	return 0;
}

static struct centry **
slot(struct cache *c, uint64_t h, int db, const char *key, size_t len)
{
	struct centry	**pp;

	for (pp = &c->tab[h & (CACHE_BUCKETS - 1)]; *pp != NULL;
	    pp = &(*pp)->next)
		if ((*pp)->hash == h && (*pp)->db == db &&
		    (*pp)->keylen == len && memcmp((*pp)->key, key, len) == 0)
			break;
	return pp;
}

/* The entry of db's path key, or NULL. */
const struct centry *
cache_get(struct cache *c, int db, const char *key)
{
	struct centry	*e;
	size_t		 len = strlen(key);

	if (c->tab == NULL)
		return NULL;
	if ((e = *slot(c, hash(db, key, len), db, key, len)) == NULL) {
		__atomic_add_fetch(&c->misses, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	TAILQ_REMOVE(&c->lru, e, lru);
	TAILQ_INSERT_HEAD(&c->lru, e, lru);
	__atomic_add_fetch(&c->hits, 1, __ATOMIC_RELAXED);
	return e;
}

static void
evict(struct cache *c, struct centry *e)
{
	struct centry	**pp = slot(c, e->hash, e->db, e->key, e->keylen);

	*pp = e->next;
	TAILQ_REMOVE(&c->lru, e, lru);
	c->bytes -= sizeof(*e) + e->len + e->keylen;
	free(e);
}

/* Keep data (len bytes) and id as db's answer for key. */
void
cache_put(struct cache *c, int db, const char *key, const void *data,
    size_t len, int64_t id)
{
	struct centry	*e, **pp;
	size_t		 klen = strlen(key), size = sizeof(*e) + len + klen;
	uint64_t	 h = hash(db, key, klen);

	if (c->tab == NULL || size > c->max / 8 ||
	    *(pp = slot(c, h, db, key, klen)) != NULL)
		return;
	while (c->bytes + size > c->max && !TAILQ_EMPTY(&c->lru))
		evict(c, TAILQ_LAST(&c->lru, centrylist));
	if ((e = malloc(size)) == NULL)
		return;
	e->hash = h;
	e->db = db;
	e->id = id;
	e->len = len;
	e->keylen = klen;
	memcpy(e->data, data, len);
	e->key = (char *)e->data + len;
	memcpy(e->key, key, klen);
	/* Evicting may have moved the slot. */
	pp = slot(c, h, db, key, klen);
	e->next = *pp;
	*pp = e;
	TAILQ_INSERT_HEAD(&c->lru, e, lru);
	c->bytes += size;
}

const uint8_t *
cache_data(const struct centry *e, size_t *len, int64_t *id)
{
	*len = e->len;
	if (id != NULL)
		*id = e->id;
	return e->data;
}

void
cache_free(struct cache *c)
{
	struct centry	*e;

	while ((e = TAILQ_FIRST(&c->lru)) != NULL) {
		TAILQ_REMOVE(&c->lru, e, lru);
		free(e);
	}
	free(c->tab);
	c->tab = NULL;
	c->bytes = 0;
}
