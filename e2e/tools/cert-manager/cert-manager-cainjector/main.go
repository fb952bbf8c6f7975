// Command cert-manager-cainjector runs cert-manager's cainjector against a cluster, as
// the cainjector binary of a cert-manager release does: a controller-runtime manager
// with leader election on a Lease, Secrets read directly (not cached), and cert-manager's
// injectors (github.com/cert-manager/cert-manager/pkg/controller/cainjector) for
// webhook configurations, APIServices and CRDs that carry
// cert-manager.io/inject-ca-from or inject-ca-from-secret.
//
// Why a main of our own: cert-manager's cainjector command lives in the Go module
// github.com/cert-manager/cert-manager/cainjector-binary (cmd/cainjector), whose go.mod
// replaces cert-manager with ../../; it is not served by the Go module proxy and could
// not be built from it if it were. Only the wiring is here; metrics are left out.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiext "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	kscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"
	apireg "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	cmscheme "github.com/cert-manager/cert-manager/pkg/client/clientset/versioned/scheme"
	"github.com/cert-manager/cert-manager/pkg/controller/cainjector"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/util"
)

func main() {
	// --kubeconfig is controller-runtime's flag (registered by its config package), read
	// by ctrl.GetConfig.
	leaderElectionNamespace := flag.String("leader-election-namespace", "cert-manager",
		"namespace of the Lease cert-manager-cainjector-leader-election (empty: no leader election)")
	version := flag.Bool("version", false, "print the cert-manager version and exit")
	klog.InitFlags(nil)
	flag.Parse()
	if *version {
		fmt.Printf("cert-manager-cainjector %s\n", util.AppVersion)
		return
	}

	logf.InitLogs()
	defer logf.FlushLogs()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx = logf.NewContext(ctx, logf.Log, "cainjector")
	ctrl.SetLogger(logf.Log)
	if err := run(ctx, *leaderElectionNamespace); err != nil {
		logf.Log.Error(err, "cert-manager-cainjector failed")
		logf.FlushLogs()
		os.Exit(1)
	}
}

func run(ctx context.Context, leaseNamespace string) error {
	log := logf.FromContext(ctx)
	log.Info("starting cert-manager cainjector", "version", util.AppVersion)
	restConfig, err := ctrl.GetConfig()
	if err != nil {
		return err
	}
	restConfig = util.RestConfigWithUserAgent(restConfig, "cainjector")

	scheme := runtime.NewScheme()
	utilruntime.Must(kscheme.AddToScheme(scheme))
	utilruntime.Must(cmscheme.AddToScheme(scheme))
	utilruntime.Must(apiext.AddToScheme(scheme))
	utilruntime.Must(apireg.AddToScheme(scheme))

	// cert-manager's defaults.
	leaseDuration, renewDeadline, retryPeriod := 60*time.Second, 40*time.Second, 15*time.Second
	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme: scheme,
		// Secrets are read from the API server on each reconcile, as cert-manager does:
		// no cache (and no list) of every Secret of the cluster.
		Client: client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}},
		LeaderElection:                leaseNamespace != "",
		LeaderElectionNamespace:       leaseNamespace,
		LeaderElectionID:              "cert-manager-cainjector-leader-election",
		LeaderElectionReleaseOnCancel: true,
		LeaderElectionResourceLock:    resourcelock.LeasesResourceLock,
		LeaseDuration:                 &leaseDuration,
		RenewDeadline:                 &renewDeadline,
		RetryPeriod:                   &retryPeriod,
		Metrics:                       metricsserver.Options{BindAddress: "0"},
	})
	if err != nil {
		return fmt.Errorf("error creating manager: %w", err)
	}
	err = cainjector.RegisterAllInjectors(ctx, mgr, cainjector.SetupOptions{
		EnableCertificatesDataSource: true,
		EnabledReconcilersFor: map[string]bool{
			cainjector.MutatingWebhookConfigurationName:   true,
			cainjector.ValidatingWebhookConfigurationName: true,
			cainjector.APIServiceName:                     true,
			cainjector.CustomResourceDefinitionName:       true,
		},
	})
	if err != nil {
		return fmt.Errorf("registering the injectors: %w", err)
	}
	return mgr.Start(ctx)
}
