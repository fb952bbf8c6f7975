#include "community/value.h"

#include <gtest/gtest.h>
