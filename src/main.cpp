#include "cli/app.hpp"

int main(int argc, char** argv) { return wg::run(argc, argv); }
