#include "community/ip_prefix.h"

#include <gtest/gtest.h>
