#include "community/alias_table.h"

#include <gtest/gtest.h>
