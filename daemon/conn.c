/* conn.c */

#include "daemon.h"
