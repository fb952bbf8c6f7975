#include "certs/inspect.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "certs/openssl_ptr.h"

namespace bgpcomm::certs {
namespace {

BioPtr ReadBio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

CertPtr FirstCertificate(const std::string& pem) {
  auto bio = ReadBio(pem);
  return CertPtr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

std::chrono::system_clock::time_point ToTimePoint(const ASN1_TIME* time) {
  struct tm parts = {};
  ASN1_TIME_to_tm(time, &parts);
  return std::chrono::system_clock::from_time_t(timegm(&parts));
}

}  // namespace

std::expected<CertificateInfo, std::string> InspectCertificate(const std::string& pem) {
  auto cert = FirstCertificate(pem);
  ERR_clear_error();
  if (!cert) return std::unexpected("no PEM certificate");
  CertificateInfo info;
  info.not_before = ToTimePoint(X509_get0_notBefore(cert.get()));
  info.not_after = ToTimePoint(X509_get0_notAfter(cert.get()));
  info.is_ca = X509_check_ca(cert.get()) != 0;
  NamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_DNS) continue;
    const ASN1_IA5STRING* dns = name->d.dNSName;
    info.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                                static_cast<std::size_t>(ASN1_STRING_length(dns)));
  }
  return info;
}

std::expected<std::vector<std::string>, std::string> SplitPemBundle(const std::string& pem) {
  std::vector<std::string> out;
  auto bio = ReadBio(pem);
  while (CertPtr cert{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) {
    BioPtr outbio(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509(outbio.get(), cert.get());
    char* data = nullptr;
    long size = BIO_get_mem_data(outbio.get(), &data);
    out.emplace_back(data, static_cast<std::size_t>(size));
  }
  ERR_clear_error();  // the end of the bundle reads as an error
  if (out.empty()) return std::unexpected("no PEM certificate");
  return out;
}

bool KeyMatchesCertificate(const std::string& cert_pem, const std::string& key_pem) {
  auto cert = FirstCertificate(cert_pem);
  auto bio = ReadBio(key_pem);
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  bool ok = cert && key && X509_check_private_key(cert.get(), key.get()) == 1;
  ERR_clear_error();
  return ok;
}

std::expected<void, std::string> VerifyCertificate(const std::string& leaf_pem,
                                                   const std::string& ca_bundle_pem,
                                                   std::chrono::system_clock::time_point at) {
  auto leaf = FirstCertificate(leaf_pem);
  if (!leaf) return std::unexpected("no PEM certificate");
  auto cas = SplitPemBundle(ca_bundle_pem);
  if (!cas) return std::unexpected("CA bundle: " + cas.error());
  StorePtr store(X509_STORE_new());
  for (const auto& ca : *cas) {
    auto cert = FirstCertificate(ca);
    X509_STORE_add_cert(store.get(), cert.get());
  }
  StoreContextPtr context(X509_STORE_CTX_new());
  X509_STORE_CTX_init(context.get(), store.get(), leaf.get(), nullptr);
  X509_STORE_CTX_set_time(context.get(), 0, std::chrono::system_clock::to_time_t(at));
  if (X509_verify_cert(context.get()) != 1) {
    ERR_clear_error();
    return std::unexpected(X509_verify_cert_error_string(X509_STORE_CTX_get_error(context.get())));
  }
  return {};
}

}  // namespace bgpcomm::certs
