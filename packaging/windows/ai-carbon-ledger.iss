; Inno Setup script for AI Carbon Ledger (Inno Setup 6). packaging/build.py runs it on
; Windows when iscc is on PATH, passing the version (from core/__init__.py), the bundle
; folder and the icon; by hand:
;   iscc /DAppVersion=0.1.0 /DBundleDir=dist\ai-carbon-ledger ^
;        /DIconFile=build\stage\icons\ai-carbon-ledger.ico /Odist packaging\windows\ai-carbon-ledger.iss
; Installs per user by default (no administrator rights needed); an administrator can
; choose "all users" in the installer.

#ifndef AppVersion
  #error Pass /DAppVersion=X.Y.Z (packaging/build.py does)
#endif
#ifndef BundleDir
  #define BundleDir "..\..\dist\ai-carbon-ledger"
#endif
#ifndef IconFile
  #define IconFile "..\..\build\stage\icons\ai-carbon-ledger.ico"
#endif
#define AppName "AI Carbon Ledger"
#define ExeName "ai-carbon-ledger.exe"
#define ProgId "AICarbonLedger.Inventory"

[Setup]
AppId={{6C1B7F9E-5E0B-4C55-9C52-5B0E7D3A1C42}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher={#AppName}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputBaseFilename=ai-carbon-ledger-{#AppVersion}-setup
SetupIconFile={#IconFile}
UninstallDisplayIcon={app}\{#ExeName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ChangesAssociations=yes

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#ExeName}"
Name: "{group}\Uninstall {#AppName}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#ExeName}"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Registry]
; .aicl inventories open in the app (HKA: the current user's or the machine's classes,
; following the install mode). The app takes the file as its first argument.
Root: HKA; Subkey: "Software\Classes\.aicl"; ValueType: string; ValueName: ""; ValueData: "{#ProgId}"; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.aicl\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\{#ProgId}"; ValueType: string; ValueName: ""; ValueData: "AI Carbon Ledger inventory"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\{#ProgId}\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#ExeName},0"
Root: HKA; Subkey: "Software\Classes\{#ProgId}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#ExeName}"" ""%1"""
Root: HKA; Subkey: "Software\Classes\Applications\{#ExeName}\SupportedTypes"; ValueType: string; ValueName: ".aicl"; ValueData: ""

[Run]
Filename: "{app}\{#ExeName}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
