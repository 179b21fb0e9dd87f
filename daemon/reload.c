/* reload.c */

#include "daemon.h"
