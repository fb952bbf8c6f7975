// bgpcomm-e2e/echo:1 — the traffic target of the kind suites: an HTTP server on port 8080
// (or $PORT) that answers every request with the name of its pod ($POD_NAME, else the host
// name, which Kubernetes sets to the pod's name) and a newline. Built with `gcc -static`
// (e2e/kind/images.sh), so the image holds this one file.
//
// One connection at a time, each bounded: a 5 s receive timeout and an 8 KiB request
// head. Whatever a client sends, the server answers or closes and goes on; it exits 0 on
// SIGTERM or SIGINT.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t stopping = 0;

static void Stop(int signal_number) {
  (void)signal_number;
  stopping = 1;
}

// Reads until the end of the request head; false on timeout, EOF or an oversized head.
static int ReadHead(int fd) {
  char head[8192];
  size_t used = 0;
  while (used < sizeof(head) - 1) {
    ssize_t n = recv(fd, head + used, sizeof(head) - 1 - used, 0);
    if (n <= 0) return 0;
    used += (size_t)n;
    head[used] = '\0';
    if (strstr(head, "\r\n\r\n") != NULL || strstr(head, "\n\n") != NULL) return 1;
  }
  return 0;
}

static void WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) return;
    data += n;
    size -= (size_t)n;
  }
}

static int Listen(int port) {
  int one = 1;
  int fd = socket(AF_INET6, SOCK_STREAM, 0);
  if (fd >= 0) {  // dual-stack where the pod has IPv6
    int zero = 0;
    struct sockaddr_in6 address = {.sin6_family = AF_INET6, .sin6_port = htons(port),
                                   .sin6_addr = in6addr_any};
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    if (bind(fd, (struct sockaddr*)&address, sizeof(address)) == 0 && listen(fd, 64) == 0) {
      return fd;
    }
    close(fd);
  }
  fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port),
                                .sin_addr = {.s_addr = htonl(INADDR_ANY)}};
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, (struct sockaddr*)&address, sizeof(address)) != 0 || listen(fd, 64) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int main(void) {
  char host[256] = "";
  const char* name = getenv("POD_NAME");
  if (name == NULL || name[0] == '\0') {
    gethostname(host, sizeof(host) - 1);
    name = host;
  }
  const char* port_text = getenv("PORT");
  int port = port_text != NULL ? atoi(port_text) : 8080;
  if (port <= 0 || port > 65535) {
    fprintf(stderr, "echo: PORT must be 1..65535\n");
    return 2;
  }

  struct sigaction stop = {.sa_handler = Stop};  // no SA_RESTART: accept returns EINTR
  sigaction(SIGTERM, &stop, NULL);
  sigaction(SIGINT, &stop, NULL);

  int listener = Listen(port);
  if (listener < 0) {
    fprintf(stderr, "echo: cannot listen on port %d: %s\n", port, strerror(errno));
    return 1;
  }
  printf("echo: %s listening on port %d\n", name, port);
  fflush(stdout);

  char response[512];
  int body_size = (int)strlen(name) + 1;
  int size = snprintf(response, sizeof(response),
                      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                      "Connection: close\r\n\r\n%s\n",
                      body_size, name);
  if (size <= 0 || size >= (int)sizeof(response)) return 1;

  while (!stopping) {
    int client = accept(listener, NULL, NULL);
    if (client < 0) continue;  // EINTR (then `stopping`), or a connection reset early
    struct timeval timeout = {.tv_sec = 5};
    setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    if (ReadHead(client)) WriteAll(client, response, (size_t)size);
    close(client);
  }
  close(listener);
  return 0;
}
