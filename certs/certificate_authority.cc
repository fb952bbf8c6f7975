#include "certs/certificate_authority.h"

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "certs/openssl_ptr.h"

namespace bgpcomm::certs {
namespace {

std::string Error(std::string_view what) {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  char buffer[256] = "unknown OpenSSL error";
  if (code != 0) ERR_error_string_n(code, buffer, sizeof buffer);
  return std::string(what) + ": " + buffer;
}

std::expected<KeyPtr, std::string> NewKey() {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return std::unexpected(Error("cannot generate an EC key"));
  return key;
}

std::expected<std::string, std::string> ToPem(X509* cert, EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  bool ok = cert != nullptr ? PEM_write_bio_X509(bio.get(), cert) == 1
                            : PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr,
                                                       nullptr) == 1;
  if (!ok) return std::unexpected(Error("cannot write PEM"));
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

bool AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  ExtPtr extension(X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str()));
  return extension && X509_add_ext(cert, extension.get(), -1) == 1;
}

// A certificate for `request` with `key`, not yet signed; issuer fields are set by the
// caller.
std::expected<CertPtr, std::string> NewCertificate(const CertificateRequest& request,
                                                   EVP_PKEY* key) {
  CertPtr cert(X509_new());
  if (!cert) return std::unexpected(Error("cannot allocate a certificate"));
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  time_t not_before = std::chrono::system_clock::to_time_t(request.not_before);
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), not_before);
  ASN1_TIME_set(X509_getm_notAfter(cert.get()), not_before + request.validity.count());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(request.common_name.c_str()),
                             -1, -1, 0);
  X509_set_pubkey(cert.get(), key);
  return cert;
}

}  // namespace

std::expected<PemPair, std::string> GenerateCa(const CertificateRequest& request) {
  auto key = NewKey();
  if (!key) return std::unexpected(key.error());
  auto cert = NewCertificate(request, key->get());
  if (!cert) return std::unexpected(cert.error());
  X509_set_issuer_name(cert->get(), X509_get_subject_name(cert->get()));
  if (!AddExtension(cert->get(), cert->get(), NID_basic_constraints, "critical,CA:TRUE") ||
      !AddExtension(cert->get(), cert->get(), NID_key_usage,
                    "critical,keyCertSign,cRLSign,digitalSignature") ||
      !AddExtension(cert->get(), cert->get(), NID_subject_key_identifier, "hash")) {
    return std::unexpected(Error("cannot add CA extensions"));
  }
  if (X509_sign(cert->get(), key->get(), EVP_sha256()) == 0) {
    return std::unexpected(Error("cannot sign the CA"));
  }
  auto cert_pem = ToPem(cert->get(), nullptr);
  auto key_pem = ToPem(nullptr, key->get());
  if (!cert_pem) return std::unexpected(cert_pem.error());
  if (!key_pem) return std::unexpected(key_pem.error());
  return PemPair{*cert_pem, *key_pem};
}

std::expected<PemPair, std::string> IssueServing(const PemPair& ca,
                                                 const CertificateRequest& request) {
  BioPtr cert_bio(BIO_new_mem_buf(ca.certificate.data(), static_cast<int>(ca.certificate.size())));
  CertPtr ca_cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  BioPtr key_bio(BIO_new_mem_buf(ca.private_key.data(), static_cast<int>(ca.private_key.size())));
  KeyPtr ca_key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!ca_cert || !ca_key) return std::unexpected(Error("cannot read the CA"));

  auto key = NewKey();
  if (!key) return std::unexpected(key.error());
  auto cert = NewCertificate(request, key->get());
  if (!cert) return std::unexpected(cert.error());
  X509_set_issuer_name(cert->get(), X509_get_subject_name(ca_cert.get()));
  std::string alt_names;
  for (const auto& dns : request.dns_names) {
    alt_names += (alt_names.empty() ? "" : ",") + ("DNS:" + dns);
  }
  for (const auto& ip : request.ip_addresses) {
    alt_names += (alt_names.empty() ? "" : ",") + ("IP:" + ip);
  }
  if (!AddExtension(cert->get(), ca_cert.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !AddExtension(cert->get(), ca_cert.get(), NID_key_usage,
                    "critical,digitalSignature,keyEncipherment") ||
      !AddExtension(cert->get(), ca_cert.get(), NID_ext_key_usage,
                    request.extended_key_usage.c_str()) ||
      !AddExtension(cert->get(), ca_cert.get(), NID_authority_key_identifier, "keyid:always") ||
      (!alt_names.empty() &&
       !AddExtension(cert->get(), ca_cert.get(), NID_subject_alt_name, alt_names))) {
    return std::unexpected(Error("cannot add serving certificate extensions"));
  }
  if (X509_sign(cert->get(), ca_key.get(), EVP_sha256()) == 0) {
    return std::unexpected(Error("cannot sign the serving certificate"));
  }
  auto cert_pem = ToPem(cert->get(), nullptr);
  auto key_pem = ToPem(nullptr, key->get());
  if (!cert_pem) return std::unexpected(cert_pem.error());
  if (!key_pem) return std::unexpected(key_pem.error());
  return PemPair{*cert_pem, *key_pem};
}

}  // namespace bgpcomm::certs
