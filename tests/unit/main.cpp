#define BOOST_TEST_MODULE household_unit
#include <boost/test/unit_test.hpp>
