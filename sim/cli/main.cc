#include <cstdio>

int main(int argc, char** argv) {
  std::printf("ksim\n");
  return 0;
}
