/*
 * mirror.h: verifying mirrors of other checksum databases,
 * daemon/mirror/ (main thread): the upstream's checkpoints checked
 * against the trust base, lookups and tiles fetched on demand (lazy) or
 * the whole log (full), every byte verified before it is stored.
 */

#ifndef MIRROR_H
#define MIRROR_H

#include "sumdbd.h"

/*
 * At start-up, after the store: a db for each [mirror] section, with
 * its db->ops and newest trust base.  0, or -1 (logged).
 */
int	mirror_open(struct env *env);
/* Once the loop exists: start polling (or watching, offline). */
void	mirror_start(struct env *env);
/* At exit, after the workers stopped: free the mirrors. */
void	mirror_free(struct env *env);

#endif /* MIRROR_H */
