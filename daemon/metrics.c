/* metrics.c */

#include "daemon.h"
