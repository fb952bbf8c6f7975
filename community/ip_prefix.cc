#include "community/ip_prefix.h"
