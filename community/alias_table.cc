#include "community/alias_table.h"
