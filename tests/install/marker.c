/* A library some user already preloads: the launcher must keep it. */
int ptcancel_test_marker = 1;
